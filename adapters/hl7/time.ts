/**
 * HL7 date/times. Canonical results carry RFC 3339 instants with an offset; a record expects
 * local wall time of the site with its offset (YYYYMMDDHHMMSS+ZZZZ). Intl knows the time zone
 * rules, so no time zone library is needed.
 */
import { Hl7BuildError } from './errors';

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

/** An instant as HL7 DTM to the second, in the site's time zone, with its UTC offset: 20261123094107+0100. */
export function formatDateTime(instant: string | Date, timeZone = DEFAULT_TIME_ZONE): string {
  const date = typeof instant === 'string' ? new Date(instant) : instant;
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new Hl7BuildError('a date/time of the result is not a valid RFC 3339 instant');
  const wholeSecond = Math.floor(ms / 1000) * 1000;
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(wholeSecond))) parts[part.type] = part.value;
  const year = Number(parts.year);
  const wall = Date.UTC(year, Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const offsetMinutes = Math.round((wall - wholeSecond) / 60000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const offset = `${sign}${pad(Math.floor(abs / 60), 2)}${pad(abs % 60, 2)}`;
  return `${pad(year, 4)}${parts.month}${parts.day}${parts.hour}${parts.minute}${parts.second}${offset}`;
}

/** A calendar date (YYYY, YYYY-MM or YYYY-MM-DD) as HL7 DT: no time zone, it is not an instant. */
export function formatDate(date: string): string {
  if (!/^\d{4}(-\d{2}(-\d{2})?)?$/.test(date)) throw new Hl7BuildError('a date of the result is not YYYY, YYYY-MM or YYYY-MM-DD');
  return date.replace(/-/g, '');
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
