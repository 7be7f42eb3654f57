/**
 * The Part 10 file wrapper (PS3.10 7.1): a 128-byte preamble, "DICM", then the File Meta
 * Information (group 0002) in Explicit VR Little Endian. A C-STORE carries the dataset without
 * it, so the hub writes it in front of the streamed bytes; the PACS forwarder reads it to find the
 * transfer syntax and where the dataset starts.
 */
import { element as encode } from './dataset-writer';

/** A UUID-derived UID (2.25, ISO/IEC 9834-8): needs no registered root. */
export const IMPLEMENTATION_CLASS_UID = '2.25.184966351152308896396295049854759200054';
export const IMPLEMENTATION_VERSION = 'PASSERELLE_1';

const PREAMBLE = 128;
const MAGIC = 'DICM';

export interface MetaInformation {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  sourceAeTitle?: string;
}

const text = (value: string) => Buffer.from(value, 'latin1');
const element = (group: number, elementNo: number, vr: string, value: Buffer) => encode(((group << 16) | elementNo) >>> 0, vr, value).bytes;

/** The bytes that go in front of the dataset: preamble, DICM and group 0002. */
export function metaHeader(meta: MetaInformation): Buffer {
  const elements = [
    element(0x0002, 0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 0x0002, 'UI', text(meta.sopClassUid)),
    element(0x0002, 0x0003, 'UI', text(meta.sopInstanceUid)),
    element(0x0002, 0x0010, 'UI', text(meta.transferSyntaxUid)),
    element(0x0002, 0x0012, 'UI', text(IMPLEMENTATION_CLASS_UID)),
    element(0x0002, 0x0013, 'SH', text(IMPLEMENTATION_VERSION)),
    ...(meta.sourceAeTitle ? [element(0x0002, 0x0016, 'AE', text(meta.sourceAeTitle))] : []),
  ];
  const body = Buffer.concat(elements);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  return Buffer.concat([Buffer.alloc(PREAMBLE), Buffer.from(MAGIC, 'latin1'), element(0x0002, 0x0000, 'UL', groupLength), body]);
}

export class NotPart10Error extends Error {
  constructor(reason: string) {
    super(`not a DICOM Part 10 file: ${reason}`);
    this.name = 'NotPart10Error';
  }
}

export interface Part10Layout extends MetaInformation {
  /** Where the dataset starts (the byte after group 0002). */
  datasetOffset: number;
}

/** Reads the meta information from the first bytes of a file (a few hundred are enough). */
export function readMetaHeader(head: Buffer): Part10Layout {
  if (head.length < PREAMBLE + 4 + 12 || head.toString('latin1', PREAMBLE, PREAMBLE + 4) !== MAGIC) throw new NotPart10Error('no DICM prefix');
  let offset = PREAMBLE + 4;
  const values = new Map<number, string>();
  let end: number | undefined;
  while (offset + 8 <= head.length && head.readUInt16LE(offset) === 0x0002) {
    const elementNo = head.readUInt16LE(offset + 2);
    const vr = head.toString('latin1', offset + 4, offset + 6);
    const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr);
    const length = long ? head.readUInt32LE(offset + 8) : head.readUInt16LE(offset + 6);
    const start = offset + (long ? 12 : 8);
    if (start + length > head.length) throw new NotPart10Error('meta information longer than the bytes read');
    if (elementNo === 0x0000) end = start + 4 + head.readUInt32LE(start);
    else values.set(elementNo, head.toString('latin1', start, start + length).replace(/[\0 ]+$/, ''));
    offset = start + length;
  }
  const transferSyntaxUid = values.get(0x0010);
  const sopClassUid = values.get(0x0002);
  const sopInstanceUid = values.get(0x0003);
  if (!transferSyntaxUid || !sopClassUid || !sopInstanceUid) throw new NotPart10Error('meta information lacks (0002,0002), (0002,0003) or (0002,0010)');
  return { sopClassUid, sopInstanceUid, transferSyntaxUid, sourceAeTitle: values.get(0x0016), datasetOffset: end ?? offset };
}
