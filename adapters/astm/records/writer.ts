/**
 * Records → message text, for the simulator and for orders. Every component is escaped, so any
 * text (delimiters, CR, control characters) reads back exactly as it was given.
 */
import { DEFAULT_DELIMITERS, type Delimiters } from './delimiters';
import { escapeText } from './escape';
import type { AstmRecord } from './record';

/** A field as the writer takes it: a plain value, its components, or its repeats of components. */
export type FieldInput = string | string[] | string[][];

/** A record to write: field 1 (the type letter) first. A header's field 2 is written from the delimiters. */
export type RecordInput = FieldInput[] | AstmRecord;

export function writeRecord(record: RecordInput, d: Delimiters = DEFAULT_DELIMITERS): string {
  const fields: FieldInput[] = Array.isArray(record) ? record : record.fields;
  const type = firstComponent(fields[0]);
  return fields
    .map((field, index) => {
      if (index === 0) return escapeText(type, d);
      if (index === 1 && type === 'H') return `${d.repeat}${d.component}${d.escape}`;
      return normalise(field).map((repeat) => repeat.map((c) => escapeText(c, d)).join(d.component)).join(d.repeat);
    })
    .join(d.field);
}

/** Records joined into message text, each ending with CR. */
export function writeMessage(records: RecordInput[], d: Delimiters = DEFAULT_DELIMITERS): string {
  return records.map((record) => `${writeRecord(record, d)}\r`).join('');
}

function normalise(field: FieldInput): string[][] {
  if (typeof field === 'string') return [[field]];
  if (field.length === 0) return [['']];
  if (typeof field[0] === 'string') return [field as string[]];
  return field as string[][];
}

function firstComponent(field: FieldInput | undefined): string {
  if (field === undefined) return '';
  const repeats = normalise(field);
  return repeats[0]?.[0] ?? '';
}
