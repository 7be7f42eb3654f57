/**
 * POCT1-A time stamps (TS) are ISO 8601: 2026-11-23T09:41:07+01:00, sometimes with hundredths
 * (…07.00-05:00), a basic offset (+0100), or no offset at all. Canonical results want RFC 3339
 * with an offset: a stamp without one is the device's wall clock, read in the site's time zone.
 */
export const DEFAULT_TIME_ZONE = 'Europe/Paris';

const TS = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/** A POCT1-A time stamp as RFC 3339, or undefined when it is not a valid date/time. */
export function toRfc3339(value: string | undefined, timeZone = DEFAULT_TIME_ZONE): string | undefined {
  if (value === undefined) return undefined;
  const m = TS.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '00', fraction = '', zone] = m;
  const wall = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  const check = new Date(wall);
  // Date.UTC rolls 2026-02-30 over to March: a stamp that does not come back unchanged is invalid.
  if (check.getUTCFullYear() !== +y || check.getUTCMonth() !== +mo - 1 || check.getUTCDate() !== +d || check.getUTCHours() !== +h || check.getUTCMinutes() !== +mi || check.getUTCSeconds() !== +s) return undefined;
  let offset: string;
  if (zone === 'Z') offset = 'Z';
  else if (zone) {
    const digits = zone.replace(':', '');
    if (+digits.slice(1, 3) > 23 || +digits.slice(3) > 59) return undefined;
    offset = `${digits.slice(0, 3)}:${digits.slice(3)}`;
  } else offset = formatOffset(offsetForWallTime(wall, timeZone));
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction}${offset}`;
}

/** An instant as a POCT1-A time stamp in the site's time zone, with its offset: 2026-11-23T09:41:07+01:00. */
export function formatTimestamp(instant: Date | number, timeZone = DEFAULT_TIME_ZONE): string {
  const ms = Math.floor((typeof instant === 'number' ? instant : instant.getTime()) / 1000) * 1000;
  if (!Number.isFinite(ms)) throw new RangeError('not a valid instant');
  const offsetMinutes = offsetAt(ms, timeZone);
  const wall = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 19);
  return `${wall}${formatOffset(offsetMinutes)}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes east of UTC in `timeZone` at the instant `ms`. */
function offsetAt(ms: number, timeZone: string): number {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    // Throws RangeError for an unknown IANA name: a configuration error worth surfacing.
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(new Date(ms))) parts[part.type] = part.value;
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return Math.round((wall - ms) / 60_000);
}

/** The offset that applies to a wall-clock time (given as if it were UTC) in `timeZone`. */
function offsetForWallTime(wall: number, timeZone: string): number {
  // Two passes settle it, DST edges included (a time in the spring gap gets the offset before it).
  const first = offsetAt(wall, timeZone);
  const second = offsetAt(wall - first * 60_000, timeZone);
  return second === first ? first : offsetAt(wall - second * 60_000, timeZone) === second ? second : first;
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
