/**
 * POCT1-A time stamps (TS) are ISO 8601: 2026-11-23T09:41:07+01:00, sometimes with hundredths
 * (…07.00-05:00), a basic offset (+0100), or no offset at all. Canonical results want RFC 3339
 * with an offset: a stamp without one is the device's wall clock, read in the site's time zone.
 */
import { DEFAULT_TIME_ZONE, formatOffset, offsetForWallTime, zoneOffsetMinutes } from '../common/time-zone';

export { DEFAULT_TIME_ZONE };

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
  const offsetMinutes = zoneOffsetMinutes(ms, timeZone);
  const wall = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 19);
  return `${wall}${formatOffset(offsetMinutes)}`;
}
