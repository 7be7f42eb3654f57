/**
 * E1394 dates: `YYYYMMDDHHMMSS`, shorter prefixes (a day, a minute), optionally `+HHMM`/`-HHMM`.
 * Without an offset the time is the device's wall clock in its time zone; the canonical result
 * wants RFC 3339 with the offset.
 */
import { formatOffset, offsetForWallTime, zoneOffsetMinutes } from '../../common/time-zone';
export { zoneOffsetMinutes };

export type AstmDate =
  | { kind: 'instant'; /** RFC 3339 with offset */ iso: string; ms: number }
  | { kind: 'date'; /** YYYY, YYYY-MM or YYYY-MM-DD */ date: string };

/** E1394's own layout. Shorter prefixes (a day, a minute) are read too, and a ±HHMM offset. */
export const ASTM_DATE_FORMAT = 'YYYYMMDDHHmmss';

const PATTERN = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([+-]\d{4})?$/;

interface DateParts { y: string; mo?: string; d?: string; h?: string; mi?: string; s?: string; offset?: string }

const TOKENS: Record<string, keyof DateParts> = { YYYY: 'y', MM: 'mo', DD: 'd', HH: 'h', mm: 'mi', ss: 's' };
const patterns = new Map<string, { full: RegExp; date: RegExp }>();

/** A device's own layout (`DD/MM/YYYY HH:mm:ss`): tokens YYYY MM DD HH mm ss, anything else literal. */
function compile(format: string): { full: RegExp; date: RegExp } {
  let compiled = patterns.get(format);
  if (!compiled) {
    const toRegExp = (f: string) => f.split(/(YYYY|MM|DD|HH|mm|ss)/).map((part) => {
      const token = Object.hasOwn(TOKENS, part) ? TOKENS[part] : undefined;
      if (token) return `(?<${token}>\\d{${part.length}})`;
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }).join('');
    const time = format.search(/HH|mm|ss/);
    const dateOnly = (time < 0 ? format : format.slice(0, time)).replace(/[^A-Za-z]+$/, '');
    compiled = { full: new RegExp(`^${toRegExp(format)}\\s*(?<offset>[+-]\\d{4})?$`), date: new RegExp(`^${toRegExp(dateOnly)}$`) };
    patterns.set(format, compiled);
  }
  return compiled;
}

/** True for a layout with a year, a month and a day, in that token set. */
export function isDateFormat(format: string): boolean {
  return /YYYY/.test(format) && /MM/.test(format) && /DD/.test(format);
}

/**
 * Reads an E1394 date (or one in the device's own `format`). Down to the day it is a calendar
 * date; with an hour it is an instant. Undefined for empty or impossible values (month 13,
 * 31 April, 25 o'clock).
 */
export function parseAstmDate(text: string, timeZone: string, format = ASTM_DATE_FORMAT): AstmDate | undefined {
  const trimmed = text.trim();
  let parts: DateParts | undefined;
  if (format === ASTM_DATE_FORMAT) {
    const match = PATTERN.exec(trimmed);
    if (match) parts = { y: match[1], mo: match[2], d: match[3], h: match[4], mi: match[5], s: match[6], offset: match[7] };
  } else {
    const { full, date } = compile(format);
    const match = full.exec(trimmed) ?? date.exec(trimmed);
    if (match?.groups) parts = match.groups as unknown as DateParts;
  }
  return parts ? fromParts(parts, timeZone) : undefined;
}

function fromParts({ y, mo, d, h, mi, s, offset }: DateParts, timeZone: string): AstmDate | undefined {
  const year = Number(y);
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (h === undefined) {
    if (offset !== undefined) return undefined;
    return { kind: 'date', date: [y, mo, d].filter((p) => p !== undefined).join('-') };
  }
  const hour = Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  let offsetMinutes: number;
  if (offset !== undefined) {
    const sign = offset[0] === '-' ? -1 : 1;
    const oh = Number(offset.slice(1, 3));
    const om = Number(offset.slice(3, 5));
    if (oh > 14 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  } else {
    offsetMinutes = offsetForWallTime(wall, timeZone);
  }
  const ms = wall - offsetMinutes * 60000;
  return { kind: 'instant', iso: formatInstant(ms, offsetMinutes), ms };
}

/** An instant as RFC 3339 in the given offset: 2024-12-06T14:06:15+01:00. */
export function formatInstant(ms: number, offsetMinutes: number): string {
  const local = new Date(ms + offsetMinutes * 60000);
  return `${local.toISOString().slice(0, 19)}${formatOffset(offsetMinutes)}`;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
