/**
 * Writes DICOM data elements in Explicit VR Little Endian (PS3.5 7.1.2): what the hub needs to
 * make its own objects (photos and PDFs from carts) and the Part 10 meta header. Sequences and
 * items have explicit lengths; encapsulated pixel data (PS3.5 A.4) has its undefined length,
 * an empty Basic Offset Table and one fragment per frame, the frame's bytes untouched.
 */

/** A tag as ggggeeee, e.g. 0x00100010 for Patient's Name. */
export type Tag = number;

/** One encoded element and its tag (datasets are sorted by tag). */
export interface Element {
  tag: Tag;
  bytes: Buffer;
}

/** VRs with a 2-byte reserved field and a 4-byte length (PS3.5 table 7.1-1). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
/** Padded with NUL to an even length; text VRs get a space. */
const NUL_PADDED = new Set(['UI', 'OB', 'UN']);
const UNDEFINED_LENGTH = 0xffffffff;

function header(tag: Tag, vr: string, length: number): Buffer {
  const long = LONG_VRS.has(vr);
  const bytes = Buffer.alloc(long ? 12 : 8);
  bytes.writeUInt16LE(tag >>> 16, 0);
  bytes.writeUInt16LE(tag & 0xffff, 2);
  bytes.write(vr, 4, 'latin1');
  if (long) bytes.writeUInt32LE(length, 8);
  else bytes.writeUInt16LE(length, 6);
  return bytes;
}

/** An element with its value as bytes (padded here to an even length). */
export function element(tag: Tag, vr: string, value: Buffer): Element {
  const padded = value.length % 2 === 0 ? value : Buffer.concat([value, Buffer.from([NUL_PADDED.has(vr) ? 0 : 0x20])]);
  if (!LONG_VRS.has(vr) && padded.length > 0xffff) throw new RangeError(`a ${vr} value is limited to 65534 bytes, got ${padded.length}`);
  return { tag, bytes: Buffer.concat([header(tag, vr, padded.length), padded]) };
}

/** Text (several values joined with a backslash), in UTF-8: the objects the hub makes declare ISO_IR 192. */
export function text(tag: Tag, vr: string, value: string | readonly string[]): Element {
  return element(tag, vr, Buffer.from(typeof value === 'string' ? value : value.join('\\'), 'utf8'));
}

export function uint16(tag: Tag, value: number): Element {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16LE(value, 0);
  return element(tag, 'US', bytes);
}

export function uint32(tag: Tag, value: number): Element {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value, 0);
  return element(tag, 'UL', bytes);
}

/** The elements in tag order (a dataset must be sorted); a tag given twice is a bug. */
export function dataset(elements: readonly Element[]): Buffer {
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  sorted.forEach((e, i) => {
    if (i > 0 && sorted[i - 1].tag === e.tag) throw new Error(`tag ${e.tag.toString(16).padStart(8, '0')} given twice`);
  });
  return Buffer.concat(sorted.map((e) => e.bytes));
}

function item(body: Buffer): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeUInt16LE(0xfffe, 0);
  bytes.writeUInt16LE(0xe000, 2);
  bytes.writeUInt32LE(body.length, 4);
  return Buffer.concat([bytes, body]);
}

/** A sequence of items, each a dataset; no items is an empty sequence (a Type 2 sequence). */
export function sequence(tag: Tag, items: ReadonlyArray<readonly Element[]>): Element {
  const body = Buffer.concat(items.map((i) => item(dataset(i))));
  return { tag, bytes: Buffer.concat([header(tag, 'SQ', body.length), body]) };
}

/** Pixel Data (7FE0,0010) encapsulated: empty offset table, one fragment per frame, sequence delimiter. */
export function encapsulatedPixelData(frames: readonly Buffer[]): Element {
  const delimiter = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  // A fragment has an even length: an odd frame gets one NUL after its last byte (after EOI for JPEG).
  const fragments = frames.map((f) => item(f.length % 2 === 0 ? f : Buffer.concat([f, Buffer.from([0])])));
  return { tag: 0x7fe00010, bytes: Buffer.concat([header(0x7fe00010, 'OB', UNDEFINED_LENGTH), item(Buffer.alloc(0)), ...fragments, delimiter]) };
}
