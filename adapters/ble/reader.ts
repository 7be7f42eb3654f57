/**
 * Little-endian reading of a GATT characteristic value, with the IEEE 11073-20601 number formats
 * the health profiles use. Every read checks the length first: a short or garbled value gives a
 * BleDecodeError that names the characteristic, the field and the offset, never a crash.
 */
export class BleDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BleDecodeError';
  }
}

/** A number, or one of the 11073 special values (kept: what the device meant is not a number). */
export type MedFloat = { value: number } | { special: 'NaN' | 'NRes' | '+INFINITY' | '-INFINITY' | 'reserved' };

const SFLOAT_SPECIALS: Record<number, Exclude<MedFloat, { value: number }>['special']> = {
  0x07ff: 'NaN', 0x0800: 'NRes', 0x07fe: '+INFINITY', 0x0802: '-INFINITY', 0x0801: 'reserved',
};
const FLOAT_SPECIALS: Record<number, Exclude<MedFloat, { value: number }>['special']> = {
  0x007fffff: 'NaN', 0x00800000: 'NRes', 0x007ffffe: '+INFINITY', 0x00800002: '-INFINITY', 0x00800001: 'reserved',
};

/** mantissa × 10^exponent read as decimal text, so without binary noise (366e-1 is 36.6, not 36.600000000000001). */
function scaled(mantissa: number, exponent: number): number {
  return Number(`${mantissa}e${exponent}`);
}

/** SFLOAT: 4-bit signed exponent (high nibble), 12-bit signed mantissa; specials checked on the raw value first. */
export function decodeSfloat(raw: number): MedFloat {
  const special = SFLOAT_SPECIALS[raw & 0xffff];
  if (special) return { special };
  let mantissa = raw & 0x0fff;
  if (mantissa >= 0x0800) mantissa -= 0x1000;
  let exponent = (raw >> 12) & 0x0f;
  if (exponent >= 0x08) exponent -= 0x10;
  return { value: scaled(mantissa, exponent) };
}

/** FLOAT: 8-bit signed exponent (high byte), 24-bit signed mantissa; specials (exponent 0) checked first. */
export function decodeFloat(raw: number): MedFloat {
  const special = FLOAT_SPECIALS[raw >>> 0];
  if (special) return { special };
  let mantissa = raw & 0x00ffffff;
  if (mantissa >= 0x00800000) mantissa -= 0x01000000;
  let exponent = (raw >>> 24) & 0xff;
  if (exponent >= 0x80) exponent -= 0x100;
  return { value: scaled(mantissa, exponent) };
}

/** Date Time characteristic layout (7 bytes); 0 means "not known" for the year, month and day. */
export interface BleDateTime {
  year: number;
  month: number;
  day: number;
  hours: number;
  minutes: number;
  seconds: number;
}

export class ByteReader {
  private offset = 0;

  constructor(private readonly bytes: Buffer, private readonly what: string) {
    if (bytes.length === 0) throw new BleDecodeError(`${what}: empty value`);
  }

  private need(count: number, field: string): number {
    if (this.offset + count > this.bytes.length) {
      throw new BleDecodeError(`${this.what}: ${field} needs ${count} byte(s) at offset ${this.offset}, the value has ${this.bytes.length}`);
    }
    const at = this.offset;
    this.offset += count;
    return at;
  }

  uint8(field: string): number { return this.bytes.readUInt8(this.need(1, field)); }
  uint16(field: string): number { return this.bytes.readUInt16LE(this.need(2, field)); }
  sint16(field: string): number { return this.bytes.readInt16LE(this.need(2, field)); }
  uint24(field: string): number { return this.bytes.readUIntLE(this.need(3, field), 3); }
  sfloat(field: string): MedFloat { return decodeSfloat(this.uint16(field)); }
  float(field: string): MedFloat { return decodeFloat(this.bytes.readUInt32LE(this.need(4, field))); }

  dateTime(field: string): BleDateTime {
    const at = this.need(7, field);
    const b = this.bytes;
    const t = { year: b.readUInt16LE(at), month: b[at + 2], day: b[at + 3], hours: b[at + 4], minutes: b[at + 5], seconds: b[at + 6] };
    if (t.year !== 0 && (t.year < 1582 || t.year > 9999)) throw new BleDecodeError(`${this.what}: ${field} year ${t.year} is outside 1582–9999`);
    if (t.month > 12 || t.day > 31 || t.hours > 23 || t.minutes > 59 || t.seconds > 59) {
      throw new BleDecodeError(`${this.what}: ${field} ${t.year}-${t.month}-${t.day} ${t.hours}:${t.minutes}:${t.seconds} is not a date and time`);
    }
    return t;
  }
}
