/**
 * Parsed ER7 (the pipe-and-hat encoding). Delimiters come from MSH-1/MSH-2, segments end with CR
 * (LF and CRLF tolerated, the final one may be missing), values are decoded on access.
 */
import type { Delimiters } from './delimiters';
import { Hl7ParseError } from './errors';
import { unescapeText } from './escape';
import { parseFieldPath, parsePath, type FieldPath } from './path';

/** A field decoded to plain text: repetitions → components → subcomponents. */
export type Hl7Field = string[][][];

const SEGMENT_NAME = /^[A-Z][A-Z0-9]{2}$/;
const LINE_BREAK = /\r\n|\r|\n/;
// Where a message may start after a BOM or blank lines that some senders put first.
const LEADING_NOISE = /^[\uFEFF\s]*/;

/** One segment. Fields keep their ER7 text and are decoded when read. */
export class Hl7Segment {
  /** fields[n] is field n as written; fields[0] is the segment name. For MSH, fields[1] is MSH-1. */
  private readonly fields: readonly string[];

  constructor(
    readonly name: string,
    /** 1-based position of the segment in its message. */
    readonly position: number,
    fields: readonly string[],
    private readonly delimiters: Delimiters,
  ) {
    this.fields = fields;
  }

  /** Number of the last field present. */
  get fieldCount(): number {
    return this.fields.length - 1;
  }

  /** Field n as written (still escaped), or undefined when the segment stops before it. */
  raw(field: number): string | undefined {
    return field >= 1 ? this.fields[field] : undefined;
  }

  /** Number of repetitions of field n (0 when absent or empty). */
  repetitions(field: number): number {
    const raw = this.raw(field);
    if (raw === undefined || raw === '') return 0;
    return this.isHeaderDelimiterField(field) ? 1 : raw.split(this.delimiters.repetition).length;
  }

  /** Field n fully decoded, or undefined when absent. */
  field(field: number): Hl7Field | undefined {
    const raw = this.raw(field);
    if (raw === undefined) return undefined;
    if (this.isHeaderDelimiterField(field)) return [[[raw]]];
    const d = this.delimiters;
    return raw.split(d.repetition).map((rep) => rep.split(d.component).map((comp) => comp.split(d.subcomponent).map((sub) => unescapeText(sub, d))));
  }

  /**
   * The decoded text at a path inside this segment: '5', '5.1', '3[2].4.2'. A path that stops
   * above a leaf ('9' for 'ORU^R01^ORU_R01') gives the leaves decoded and joined with the
   * message's delimiters; address the leaf when its text may contain a delimiter.
   * undefined when the segment has no such element, '' when it is present and empty.
   */
  get(path: string | FieldPath): string | undefined {
    const p = typeof path === 'string' ? parseFieldPath(path) : path;
    const raw = this.raw(p.field);
    if (raw === undefined) return undefined;
    const d = this.delimiters;
    if (this.isHeaderDelimiterField(p.field)) {
      return p.repetition === 1 && (p.component ?? 1) === 1 && (p.subcomponent ?? 1) === 1 ? raw : undefined;
    }
    const repetition = raw.split(d.repetition)[p.repetition - 1];
    if (repetition === undefined) return undefined;
    const decodeComponent = (component: string) => component.split(d.subcomponent).map((s) => unescapeText(s, d)).join(d.subcomponent);
    if (p.component === undefined) return repetition.split(d.component).map(decodeComponent).join(d.component);
    const component = repetition.split(d.component)[p.component - 1];
    if (component === undefined) return undefined;
    if (p.subcomponent === undefined) return decodeComponent(component);
    const sub = component.split(d.subcomponent)[p.subcomponent - 1];
    return sub === undefined ? undefined : unescapeText(sub, d);
  }

  /** The segment as ER7 text, without its terminator. */
  toString(): string {
    if (this.name === 'MSH') return ['MSH', ...this.fields.slice(2)].join(this.delimiters.field);
    return this.fields.join(this.delimiters.field);
  }

  // MSH-1 and MSH-2 are the delimiters themselves: never split or unescaped.
  private isHeaderDelimiterField(field: number): boolean {
    return this.name === 'MSH' && (field === 1 || field === 2);
  }
}

/** One HL7v2 message in ER7. */
export class Hl7Message {
  /** MSH-10, decoded ('' when the sender left it empty). */
  readonly controlId: string;
  /** MSH-9 components joined with '^', e.g. 'ORU^R01^ORU_R01', 'ADT^A01'. */
  readonly messageType: string;
  /** MSH-12.1, e.g. '2.5'. */
  readonly version: string;
  /** MSH-18 as declared, trimmed ('' when absent or blank). The bytes were decoded by decodeMessage. */
  readonly declaredCharset: string;

  private constructor(
    readonly delimiters: Readonly<Delimiters>,
    private readonly all: readonly Hl7Segment[],
  ) {
    const msh = all[0];
    this.controlId = msh.get('10') ?? '';
    this.messageType = (msh.field(9)?.[0] ?? []).map((c) => c[0]).join('^').replace(/\^+$/, '');
    this.version = msh.get('12.1') ?? '';
    this.declaredCharset = (msh.get('18[1].1') ?? '').trim();
  }

  /**
   * Parses one message. Throws Hl7ParseError, naming the segment and what is wrong, for text
   * that is not HL7v2: no MSH first, unusable delimiters, a header too short to carry MSH-12, an
   * invalid segment name, or a second MSH (split files of several messages with splitMessages).
   */
  static parse(text: string): Hl7Message {
    const body = text.replace(LEADING_NOISE, '');
    if (!body.startsWith('MSH')) {
      const found = body.slice(0, 3);
      throw new Hl7ParseError(`segment 1: an HL7v2 message starts with MSH${SEGMENT_NAME.test(found) ? `, found ${found}` : ''}`);
    }
    const delimiters = readDelimiters(body);
    const segments: Hl7Segment[] = [];
    for (const line of body.split(LINE_BREAK)) {
      if (line.trim() === '') continue; // blank lines between segments: tolerated
      const position = segments.length + 1;
      const name = line.slice(0, 3);
      if (!SEGMENT_NAME.test(name) || (line.length > 3 && line[3] !== delimiters.field)) {
        throw new Hl7ParseError(`segment ${position}: invalid segment name (3 capitals or digits followed by '${delimiters.field}' expected)`);
      }
      if (name === 'MSH' && position > 1) {
        throw new Hl7ParseError(`segment ${position} (MSH): a second message starts here; split files of several messages with splitMessages()`);
      }
      const parts = line.split(delimiters.field);
      // MSH-1 is the field separator itself, so MSH field n is parts[n - 1].
      const fields = name === 'MSH' ? ['MSH', delimiters.field, ...parts.slice(1)] : parts;
      segments.push(new Hl7Segment(name, position, fields, delimiters));
    }
    const msh = segments[0];
    if (msh.fieldCount < 12) {
      throw new Hl7ParseError(`segment 1 (MSH): too short, ${msh.fieldCount} fields where MSH-12 (version) is required`);
    }
    if ((msh.get('9.1') ?? '') === '') throw new Hl7ParseError('segment 1 (MSH): MSH-9 (message type) is empty');
    return new Hl7Message(delimiters, segments);
  }

  /** The segments in order, or those with the given name. */
  segments(name?: string): readonly Hl7Segment[] {
    return name === undefined ? this.all : this.all.filter((s) => s.name === name);
  }

  /** The n-th segment with this name (1-based), if any. */
  segment(name: string, occurrence = 1): Hl7Segment | undefined {
    return this.segments(name)[occurrence - 1];
  }

  /** The decoded text at a path: 'MSH-10', 'PID-5.1', 'OBX[2]-5', 'PID-3[2].4.2'. See Hl7Segment.get. */
  get(path: string): string | undefined {
    const p = parsePath(path);
    return this.segment(p.segment, p.occurrence)?.get(p);
  }

  /** The message as ER7, segments ending with CR (whatever the original terminators were). */
  toString(): string {
    return this.all.map((s) => `${s}\r`).join('');
  }
}

/** Splits text holding several messages (a file, a capture) into one text per message. Batch headers are dropped. */
export function splitMessages(text: string): string[] {
  const messages: string[][] = [];
  for (const line of text.replace(LEADING_NOISE, '').split(LINE_BREAK)) {
    if (line.trim() === '' || /^(FHS|BHS|BTS|FTS)/.test(line)) continue;
    if (line.startsWith('MSH') || messages.length === 0) messages.push([]);
    messages[messages.length - 1].push(line);
  }
  return messages.map((lines) => `${lines.join('\r')}\r`);
}

function readDelimiters(body: string): Delimiters {
  const field = body[3];
  if (field === undefined || !isDelimiterCandidate(field)) {
    throw new Hl7ParseError('segment 1 (MSH): MSH-1 must be the field separator, a punctuation character');
  }
  const lineEnd = body.search(LINE_BREAK);
  const header = lineEnd < 0 ? body : body.slice(0, lineEnd);
  const end = header.indexOf(field, 4);
  const chars = [...(end < 0 ? header.slice(4) : header.slice(4, end))];
  if (chars.length < 4 || chars.length > 5) {
    throw new Hl7ParseError(`segment 1 (MSH): MSH-2 must hold 4 or 5 encoding characters, found ${chars.length}`);
  }
  if (!chars.every(isDelimiterCandidate) || new Set([field, ...chars]).size !== chars.length + 1) {
    throw new Hl7ParseError('segment 1 (MSH): MSH-2 encoding characters must be distinct punctuation characters');
  }
  const [component, repetition, escape, subcomponent, truncation] = chars;
  const delimiters: Delimiters = { field, component, repetition, escape, subcomponent };
  if (truncation !== undefined) delimiters.truncation = truncation;
  return Object.freeze(delimiters);
}

// Letters, digits, spaces and control characters cannot be delimiters: they occur in data.
function isDelimiterCandidate(ch: string): boolean {
  return ch.length === 1 && /[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/.test(ch);
}
