/**
 * HL7 date/times. Canonical results carry RFC 3339 instants with an offset; a record expects
 * local wall time of the site with its offset (YYYYMMDDHHMMSS+ZZZZ). Intl knows the time zone
 * rules, so no time zone library is needed.
 */
import { DEFAULT_TIME_ZONE, formatOffset, zoneOffsetMinutes } from '../common/time-zone';
import { Hl7BuildError } from './errors';

export { DEFAULT_TIME_ZONE };

/** An instant as HL7 DTM to the second, in the site's time zone, with its UTC offset: 20261123094107+0100. */
export function formatDateTime(instant: string | Date, timeZone = DEFAULT_TIME_ZONE): string {
  const date = typeof instant === 'string' ? new Date(instant) : instant;
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new Hl7BuildError('a date/time of the result is not a valid RFC 3339 instant');
  const offsetMinutes = zoneOffsetMinutes(ms, timeZone);
  // The wall time is the instant shifted by its offset, read as UTC.
  const wall = new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes * 60_000).toISOString();
  return `${wall.slice(0, 19).replace(/[-:T]/g, '')}${formatOffset(offsetMinutes, true)}`;
}

/** A calendar date (YYYY, YYYY-MM or YYYY-MM-DD) as HL7 DT: no time zone, it is not an instant. */
export function formatDate(date: string): string {
  if (!/^\d{4}(-\d{2}(-\d{2})?)?$/.test(date)) throw new Hl7BuildError('a date of the result is not YYYY, YYYY-MM or YYYY-MM-DD');
  return date.replace(/-/g, '');
}
