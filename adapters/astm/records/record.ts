/**
 * One E1394 record. Field numbers count the record type letter as field 1, as the standard and
 * PROTOCOLS.md do: in `R|1|^^^WBC|8.5`, R.1 is `R`, R.2 the sequence number, R.3 the test id,
 * R.4 the value. A field holds repeats, a repeat holds components; components are stored decoded.
 */
import type { Delimiters } from './delimiters';
import { unescapeText } from './escape';

/** Components of one repeat. */
export type Repeat = string[];
/** Repeats of one field. */
export type Field = Repeat[];

/** The record types E1394 defines. Anything else is kept and flagged as unknown. */
export const KNOWN_RECORD_TYPES = ['H', 'P', 'O', 'R', 'C', 'M', 'Q', 'L'] as const;
export type KnownRecordType = (typeof KNOWN_RECORD_TYPES)[number];

export class AstmRecord {
  /** 1-based position of the record in its message (for messages that must not quote contents). */
  readonly position: number;
  /** The record as written, before splitting or decoding. */
  readonly raw: string;
  readonly fields: Field[];

  constructor(position: number, raw: string, fields: Field[]) {
    this.position = position;
    this.raw = raw;
    this.fields = fields;
  }

  /** Splits one record's text with the message's delimiters. The header's field 2 (the delimiter definition) is kept whole. */
  static parse(raw: string, position: number, d: Delimiters): AstmRecord {
    const parts = raw.split(d.field);
    const fields: Field[] = parts.map((part, index) => {
      if (index === 1 && parts[0] === 'H') return [[part]];
      return part.split(d.repeat).map((repeat) => repeat.split(d.component).map((c) => unescapeText(c, d)));
    });
    return new AstmRecord(position, raw, fields);
  }

  /** The record type letter (field 1), e.g. `R`. */
  get type(): string {
    return this.fields[0]?.[0]?.[0] ?? '';
  }

  get known(): boolean {
    return (KNOWN_RECORD_TYPES as readonly string[]).includes(this.type);
  }

  /** Where to point in a message about this record without quoting it: `record 4 (R)`. */
  get label(): string {
    return `record ${this.position} (${/^[A-Za-z]$/.test(this.type) ? this.type : '?'})`;
  }

  /** Number of fields, the type letter included. */
  get fieldCount(): number {
    return this.fields.length;
  }

  /** Field n (1-based), as repeats of components; empty when absent. */
  field(n: number): Field {
    return this.fields[n - 1] ?? [];
  }

  /** One component (all 1-based); '' when absent. */
  get(n: number, component = 1, repeat = 1): string {
    return this.fields[n - 1]?.[repeat - 1]?.[component - 1] ?? '';
  }

  /** The components of one repeat of field n; [] when absent. */
  components(n: number, repeat = 1): string[] {
    return this.fields[n - 1]?.[repeat - 1] ?? [];
  }

  /** The repeats of field n. */
  repeats(n: number): Field {
    return this.field(n);
  }

  /**
   * Field n as text: decoded components joined with the component delimiter, repeats with the
   * repeat delimiter, trailing empty components dropped (`40^^` → `40`).
   */
  text(n: number, d: Delimiters): string {
    const repeats = this.field(n).map((repeat) => {
      let last = repeat.length;
      while (last > 0 && repeat[last - 1] === '') last -= 1;
      return repeat.slice(0, last).join(d.component);
    });
    let count = repeats.length;
    while (count > 0 && repeats[count - 1] === '') count -= 1;
    return repeats.slice(0, count).join(d.repeat);
  }

  /** True when field n is absent or has only empty components. */
  isEmpty(n: number): boolean {
    return this.field(n).every((repeat) => repeat.every((c) => c === ''));
  }
}
