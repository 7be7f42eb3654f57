/**
 * Offsets of IANA time zones, from the Intl API (which knows the rules, summer time included),
 * so no time zone library is needed. Devices and records speak local wall time with or without
 * an offset; canonical results carry RFC 3339 instants with theirs.
 */
export const DEFAULT_TIME_ZONE = 'Europe/Paris';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    // Throws RangeError for an unknown IANA name: a configuration error worth surfacing.
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Minutes east of UTC in `timeZone` at the instant `utcMs` (Paris in winter: 60). */
export function zoneOffsetMinutes(utcMs: number, timeZone: string): number {
  const wholeSecond = Math.floor(utcMs / 1000) * 1000;
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(wholeSecond))) parts[part.type] = part.value;
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return Math.round((wall - wholeSecond) / 60_000);
}

/** The offset that applies to a wall-clock time (given as if it were UTC) in `timeZone`. */
export function offsetForWallTime(wallMs: number, timeZone: string): number {
  // Two passes settle it, DST edges included (a time in the spring gap gets the offset before it).
  const first = zoneOffsetMinutes(wallMs, timeZone);
  const second = zoneOffsetMinutes(wallMs - first * 60_000, timeZone);
  return second === first ? first : zoneOffsetMinutes(wallMs - second * 60_000, timeZone) === second ? second : first;
}

/** +01:00 (RFC 3339) or, with `basic`, +0100 (HL7, ASTM). */
export function formatOffset(minutes: number, basic = false): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const hours = String(Math.floor(abs / 60)).padStart(2, '0');
  const rest = String(abs % 60).padStart(2, '0');
  return basic ? `${sign}${hours}${rest}` : `${sign}${hours}:${rest}`;
}
