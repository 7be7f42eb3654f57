/**
 * R.4 values, R.6 reference ranges and R.7 flags, as the canonical result types them. The value
 * is never changed, only typed: `8.13` is NM 8.13, `<5` and `>8` are SN, `7,41` is NM 7.41 when
 * the device writes a decimal comma, anything else is text as sent (trimmed: some devices
 * right-align numbers with spaces).
 */
import type { AbnormalFlag, ObservationValue, StructuredNumeric } from '../../model';

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const COMPARED = /^(<=|>=|<|>|=)\s*(.+)$/;

/** A number as the device writes it, or undefined. */
export function readNumber(text: string, decimalComma: boolean): number | undefined {
  let t = text.trim();
  if (decimalComma && /^[^.]*,[^,]*$/.test(t)) t = t.replace(',', '.');
  if (!NUMBER.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

export interface TypedValue {
  valueType: 'NM' | 'SN' | 'ST' | 'TX';
  value?: ObservationValue;
}

/** HL7 ST holds up to 199 characters; longer text is TX. */
const ST_MAX = 199;

export function typeValue(raw: string, decimalComma: boolean): TypedValue {
  const text = raw.trim();
  if (text === '') return { valueType: 'ST' };
  const number = readNumber(text, decimalComma);
  if (number !== undefined) return { valueType: 'NM', value: number };
  const compared = COMPARED.exec(text);
  if (compared) {
    const n = readNumber(compared[2], decimalComma);
    if (n !== undefined) return { valueType: 'SN', value: { comparator: compared[1] as StructuredNumeric['comparator'], number: n } };
  }
  return { valueType: text.length > ST_MAX ? 'TX' : 'ST', value: text };
}

export interface ReferenceRange {
  low?: number;
  high?: number;
  text?: string;
}

const RANGE = /^(-?[\d.,]+)?\s*(?:to|-)\s*(-?[\d.,]+)?$/i;

/** `3.5 to 4.5`, `84.0 - 94.0`, `4-10`, `to 4.5`, `<5`, `>3`: low and high when readable, the text always. */
export function readRange(raw: string, decimalComma: boolean): ReferenceRange | undefined {
  const text = raw.trim();
  if (text === '') return undefined;
  const range: ReferenceRange = { text };
  const compared = COMPARED.exec(text);
  if (compared) {
    const n = readNumber(compared[2], decimalComma);
    if (n !== undefined && compared[1].startsWith('<')) range.high = n;
    else if (n !== undefined && compared[1].startsWith('>')) range.low = n;
    return range;
  }
  const match = RANGE.exec(text);
  if (match && (match[1] !== undefined || match[2] !== undefined)) {
    const low = match[1] === undefined ? undefined : readNumber(match[1], decimalComma);
    const high = match[2] === undefined ? undefined : readNumber(match[2], decimalComma);
    if ((match[1] === undefined || low !== undefined) && (match[2] === undefined || high !== undefined)) {
      if (low !== undefined) range.low = low;
      if (high !== undefined) range.high = high;
    }
  }
  return range;
}

const FLAGS: ReadonlySet<string> = new Set<AbnormalFlag>(['L', 'H', 'LL', 'HH', '<', '>', 'N', 'A', 'AA', 'U', 'D', 'B', 'W']);

/** R.7 flags (repeats and components both allowed); the ones outside E1394's list are returned apart. */
export function readFlags(parts: string[]): { flags: AbnormalFlag[]; other: string[] } {
  const flags: AbnormalFlag[] = [];
  const other: string[] = [];
  for (const part of parts) {
    const flag = part.trim();
    if (flag === '') continue;
    if (FLAGS.has(flag)) {
      if (!flags.includes(flag as AbnormalFlag)) flags.push(flag as AbnormalFlag);
    } else {
      other.push(flag);
    }
  }
  return { flags, other };
}
