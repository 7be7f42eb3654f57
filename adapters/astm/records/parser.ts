/**
 * Message text → records → the E1394 hierarchy: header, then patients, their orders, the
 * orders' results; comments (C) and manufacturer records (M) attached to the record they follow;
 * queries (Q) under the header; the terminator (L) last.
 *
 * Tolerant where devices are: records end with CR, but LF and CR LF are accepted (the go-astm
 * captures use LF); blank lines are skipped; a result without its order, or an order without its
 * patient, gets an empty parent and a warning; M records are kept, never fatal; unknown record
 * types are kept and flagged. Fatal only: no header, or delimiters that cannot be read.
 */
import { type Delimiters, readDelimiters } from './delimiters';
import { AstmParseError } from './errors';
import { AstmRecord } from './record';

/** Comments and manufacturer records that follow a record belong to it. */
export interface Annotated {
  comments: AstmRecord[];
  manufacturer: AstmRecord[];
}

export interface ResultGroup extends Annotated {
  record: AstmRecord;
}

export interface OrderGroup extends Annotated {
  /** Absent when results came without an order record. */
  record?: AstmRecord;
  results: ResultGroup[];
}

export interface PatientGroup extends Annotated {
  /** Absent when orders came without a patient record. */
  record?: AstmRecord;
  orders: OrderGroup[];
}

export interface QueryGroup extends Annotated {
  record: AstmRecord;
}

/** One message, H to L. Comments and M records that follow the header are the message's own. */
export interface AstmMessage extends Annotated {
  delimiters: Delimiters;
  header: AstmRecord;
  patients: PatientGroup[];
  queries: QueryGroup[];
  terminator?: AstmRecord;
  /** Records of a type E1394 does not define, in order. */
  unknown: AstmRecord[];
  /** Every record in order, as received. */
  records: AstmRecord[];
  /** What was tolerated, by record position; never record contents. */
  warnings: string[];
}

/** Text as received: ISO 8859-1 unless the site says otherwise. */
export function decodeAstmText(bytes: Uint8Array, charset: 'latin1' | 'utf8' = 'latin1'): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(charset);
}

/** The record lines of a text, whatever the line ends. */
export function splitRecords(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/).filter((line) => line.length > 0);
}

/** Every message in the text, each starting at a header record. */
export function parseMessages(text: string): AstmMessage[] {
  const lines = splitRecords(text);
  const first = lines.findIndex((line) => line[0] === 'H');
  if (first < 0) throw new AstmParseError('no header (H) record');
  const messages: AstmMessage[] = [];
  let start = first;
  for (let i = first + 1; i <= lines.length; i += 1) {
    if (i === lines.length || lines[i][0] === 'H') {
      const message = buildMessage(lines.slice(start, i));
      if (start === first && first > 0) message.warnings.unshift(`${first} line(s) before the first header ignored`);
      messages.push(message);
      start = i;
    }
  }
  return messages;
}

/** Exactly one message: a second header is refused (use parseMessages for a file of several). */
export function parseMessage(text: string): AstmMessage {
  const messages = parseMessages(text);
  if (messages.length > 1) throw new AstmParseError(`${messages.length} header (H) records: more than one message`);
  return messages[0];
}

function annotated(): Annotated {
  return { comments: [], manufacturer: [] };
}

function buildMessage(lines: string[]): AstmMessage {
  const { delimiters, quirk } = readDelimiters(lines[0]);
  const records = lines.map((line, index) => AstmRecord.parse(line, index + 1, delimiters));
  const message: AstmMessage = {
    delimiters, header: records[0], patients: [], queries: [], unknown: [], records, warnings: [], ...annotated(),
  };
  if (quirk) message.warnings.push(`record 1 (H): ${quirk}`);

  let parent: Annotated | null = message;
  let patient: PatientGroup | null = null;
  let order: OrderGroup | null = null;
  const currentPatient = (record: AstmRecord): PatientGroup => {
    if (patient) return patient;
    message.warnings.push(`${record.label}: no patient record before it; grouped under an empty patient`);
    patient = { orders: [], ...annotated() };
    message.patients.push(patient);
    return patient;
  };
  const currentOrder = (record: AstmRecord): OrderGroup => {
    if (order) return order;
    const parentPatient = currentPatient(record);
    message.warnings.push(`${record.label}: no order record before it; grouped under an empty order`);
    order = { results: [], ...annotated() };
    parentPatient.orders.push(order);
    return order;
  };

  for (const record of records.slice(1)) {
    if (message.terminator && record.known) message.warnings.push(`${record.label}: after the terminator record`);
    switch (record.type) {
      case 'P':
        patient = { record, orders: [], ...annotated() };
        order = null;
        message.patients.push(patient);
        parent = patient;
        break;
      case 'O': {
        const group: OrderGroup = { record, results: [], ...annotated() };
        currentPatient(record).orders.push(group);
        order = group;
        parent = group;
        break;
      }
      case 'R': {
        const group: ResultGroup = { record, ...annotated() };
        currentOrder(record).results.push(group);
        parent = group;
        break;
      }
      case 'Q': {
        const group: QueryGroup = { record, ...annotated() };
        message.queries.push(group);
        parent = group;
        break;
      }
      case 'C':
      case 'M':
        if (parent) (record.type === 'C' ? parent.comments : parent.manufacturer).push(record);
        else message.warnings.push(`${record.label}: nothing to attach it to`);
        break;
      case 'L':
        if (message.terminator) message.warnings.push(`${record.label}: a second terminator record`);
        else message.terminator = record;
        parent = null;
        break;
      case 'H':
        // Only the first line can be a header: buildMessage gets one message's lines.
        break;
      default:
        message.unknown.push(record);
        message.warnings.push(`${record.label}: unknown record type, kept`);
    }
  }
  if (!message.terminator) message.warnings.push('no terminator (L) record: the message may be incomplete');
  return message;
}
