/**
 * Text helpers the GP formats share: ISO 8859-1 with transliteration (HPRIM files are Latin-1,
 * the CDA keeps every character exactly), numbers without exponents, and Europe/Paris wall time.
 */
import { DEFAULT_TIME_ZONE, zoneOffsetMinutes } from '../common/time-zone';
import { GpFormatError } from './errors';

/**
 * Characters outside ISO 8859-1 that French reports do carry, and what a Latin-1 file gets
 * instead. Œ/œ are the trap: they are in windows-1252 (0x8C/0x9C) but not in ISO 8859-1, so
 * CŒURDEROY becomes COEURDEROY, as French typists write it when Œ is missing.
 */
const LATIN1_REPLACEMENTS: Readonly<Record<string, string>> = {
  'Œ': 'OE', 'œ': 'oe', 'Ÿ': 'Y', '€': 'EUR', '‘': "'", '’': "'", '‚': "'", '“': '"', '”': '"', '„': '"',
  '–': '-', '—': '-', '‐': '-', '−': '-', '…': '...', '≤': '<=', '≥': '>=', '≠': '!=', 'μ': 'µ', '•': '*', '‰': 'o/oo',
  'Ł': 'L', 'ł': 'l', 'Đ': 'D', 'đ': 'd', 'ı': 'i',
  '\u202f': ' ', '\u2009': ' ', '\u2007': ' ',
};

export interface Latin1Text {
  text: string;
  /** Characters written as something else (Œ → OE, ≥ → >=). */
  transliterated: number;
  /** Characters with no Latin-1 form at all, written as '?'. */
  unrepresentable: number;
}

/** Text made of ISO 8859-1 characters only, saying how many were transliterated or lost. */
export function toLatin1(input: string): Latin1Text {
  let text = '';
  let transliterated = 0;
  let unrepresentable = 0;
  for (const ch of input.normalize('NFC')) {
    if (ch.codePointAt(0)! <= 0xff) {
      text += ch;
      continue;
    }
    const replacement = LATIN1_REPLACEMENTS[ch] ?? stripped(ch);
    if (replacement === undefined) {
      text += '?';
      unrepresentable++;
    } else {
      text += replacement;
      transliterated++;
    }
  }
  return { text, transliterated, unrepresentable };
}

// Compatibility decomposition without the accents: ⁹ → 9, ﬁ → fi, ǅ → Dž → Dz, ő → o.
function stripped(ch: string): string | undefined {
  const plain = ch.normalize('NFKD').replace(/\p{M}/gu, '').normalize('NFC');
  return plain !== '' && [...plain].every((c) => c.codePointAt(0)! <= 0xff) ? plain : undefined;
}

/** A number as plain decimal text ('.' separator, no exponent) that reads back to the same number. */
export function formatDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new GpFormatError('a numeric value is not a finite number');
  const shortest = String(value);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(shortest);
  if (!m) return shortest;
  const [, sign, lead, rest = '', exp] = m;
  const digits = lead + rest;
  const point = 1 + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

export interface WallClock {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
  /** Minutes east of UTC at that instant. */
  offsetMinutes: number;
}

/** An RFC 3339 instant as wall-clock parts in the site's time zone (Europe/Paris by default). */
export function wallClock(instant: string, timeZone = DEFAULT_TIME_ZONE): WallClock {
  const ms = new Date(instant).getTime();
  if (!Number.isFinite(ms)) throw new GpFormatError('a date/time of the result is not a valid RFC 3339 instant');
  const offsetMinutes = zoneOffsetMinutes(ms, timeZone);
  const iso = new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes * 60_000).toISOString();
  return { year: iso.slice(0, 4), month: iso.slice(5, 7), day: iso.slice(8, 10), hour: iso.slice(11, 13), minute: iso.slice(14, 16), second: iso.slice(17, 19), offsetMinutes };
}

/** YYYY-MM-DD (or YYYY-MM, YYYY) → its parts; the patient's birth date is a date, not an instant. */
export function dateParts(date: string): { year: string; month?: string; day?: string } {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(date);
  if (!m) throw new GpFormatError('a date of the result is not YYYY, YYYY-MM or YYYY-MM-DD');
  return { year: m[1], month: m[2], day: m[3] };
}
