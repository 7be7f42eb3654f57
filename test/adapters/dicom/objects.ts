/**
 * DICOM objects written for tests: small ones with French names in Latin-1 or UTF-8, a class the
 * hub refuses, and a multi-frame ultrasound loop of hundreds of megabytes written frame by frame
 * (never whole in memory). Explicit VR Little Endian, Part 10, meta header from the adapter.
 */
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { metaHeader } from '../../../adapters/dicom';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../../adapters/dicom/uids';

type Vr = 'AE' | 'AS' | 'CS' | 'DA' | 'DS' | 'DT' | 'IS' | 'LO' | 'PN' | 'SH' | 'ST' | 'TM' | 'UI' | 'US' | 'OB' | 'OW' | 'LT';
export type Element = [tag: number, vr: Vr, value: string | Buffer | number];

const LONG = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);

export function encodeElement([tag, vr, value]: Element, charset: BufferEncoding = 'latin1'): Buffer {
  let bytes: Buffer;
  if (typeof value === 'number') {
    bytes = Buffer.alloc(2);
    bytes.writeUInt16LE(value, 0);
  } else {
    bytes = Buffer.isBuffer(value) ? value : Buffer.from(value, charset);
  }
  if (bytes.length % 2 === 1) bytes = Buffer.concat([bytes, Buffer.from([vr === 'UI' || vr === 'OB' ? 0 : 0x20])]);
  const long = LONG.has(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(tag >>> 16, 0);
  head.writeUInt16LE(tag & 0xffff, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(bytes.length, 8);
  else head.writeUInt16LE(bytes.length, 6);
  return Buffer.concat([head, bytes]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}

export function newUid(): string {
  return `2.25.${BigInt(`0x${randomBytes(16).toString('hex')}`).toString()}`;
}

export interface ObjectSpec {
  sopClassUid: string;
  sopInstanceUid?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  /** 'ISO_IR 100' (Latin-1) or 'ISO_IR 192' (UTF-8): how PatientName and descriptions are written. */
  characterSet?: 'ISO_IR 100' | 'ISO_IR 192';
  patientName?: string;
  patientId?: string;
  accessionNumber?: string;
  modality?: string;
  bodyPart?: string;
  studyDescription?: string;
  /** More attributes, e.g. an encapsulated document (0042,0011). */
  extra?: Element[];
  /** Native 8-bit pixels, rows x columns x frames. */
  pixels?: { rows: number; columns: number; frames?: number; samplesPerPixel?: 1 | 3 };
  /**
   * Instead: encapsulated pixel data (an empty offset table, one fragment of these bytes, the
   * delimiter) in this compressed transfer syntax; `cut` leaves the delimiter out.
   */
  encapsulated?: { transferSyntaxUid: string; fragment: Buffer; cut?: boolean };
}

export interface WrittenObject {
  path: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  size: number;
  /** Where the pixel data value starts in the file, and its length. */
  pixelOffset?: number;
  pixelLength?: number;
}

/** Writes the object to `path`; the pixels are pseudo-random bytes written a frame at a time. */
export async function writeObject(path: string, spec: ObjectSpec): Promise<WrittenObject> {
  const sopInstanceUid = spec.sopInstanceUid ?? newUid();
  const studyInstanceUid = spec.studyInstanceUid ?? newUid();
  const encoding: BufferEncoding = spec.characterSet === 'ISO_IR 192' ? 'utf8' : 'latin1';
  const p = spec.pixels;
  const elements: Element[] = [
    ...(spec.characterSet ? [[0x00080005, 'CS', spec.characterSet] as Element] : []),
    [0x00080016, 'UI', spec.sopClassUid],
    [0x00080018, 'UI', sopInstanceUid],
    [0x00080020, 'DA', '20261123'],
    [0x00080030, 'TM', '093210'],
    [0x00080050, 'SH', spec.accessionNumber ?? 'ACC0001'],
    [0x00080060, 'CS', spec.modality ?? 'OT'],
    [0x00080070, 'LO', 'Passerelle tests'],
    [0x00081030, 'LO', spec.studyDescription ?? 'Examen de test'],
    [0x00100010, 'PN', spec.patientName ?? 'TEST^Patient'],
    [0x00100020, 'LO', spec.patientId ?? 'IPP0001'],
    [0x00100030, 'DA', '19610314'],
    [0x00100040, 'CS', 'F'],
    ...(spec.bodyPart ? [[0x00180015, 'CS', spec.bodyPart] as Element] : []),
    [0x0020000d, 'UI', studyInstanceUid],
    [0x0020000e, 'UI', spec.seriesInstanceUid ?? newUid()],
    [0x00200011, 'IS', '1'],
    [0x00200013, 'IS', '1'],
    ...(spec.extra ?? []),
  ];
  if (p) {
    const samples = p.samplesPerPixel ?? 1;
    elements.push(
      [0x00280002, 'US', samples],
      [0x00280004, 'CS', samples === 3 ? 'RGB' : 'MONOCHROME2'],
      ...(samples === 3 ? [[0x00280006, 'US', 0] as Element] : []),
      ...(p.frames ? [[0x00280008, 'IS', String(p.frames)] as Element] : []),
      [0x00280010, 'US', p.rows],
      [0x00280011, 'US', p.columns],
      [0x00280100, 'US', 8],
      [0x00280101, 'US', 8],
      [0x00280102, 'US', 7],
      [0x00280103, 'US', 0],
    );
  }
  const head = Buffer.concat([
    metaHeader({ sopClassUid: spec.sopClassUid, sopInstanceUid, transferSyntaxUid: spec.encapsulated?.transferSyntaxUid ?? EXPLICIT_VR_LITTLE_ENDIAN }),
    ...elements.sort((a, b) => a[0] - b[0]).map((e) => encodeElement(e, encoding)),
  ]);
  const file = await open(path, 'w');
  try {
    await file.write(head);
    let size = head.length;
    if (spec.encapsulated) {
      const { fragment, cut } = spec.encapsulated;
      const item = (bytes: Buffer) => Buffer.concat([Buffer.from([0xfe, 0xff, 0x00, 0xe0]), u32(bytes.length), bytes]);
      const pixels = Buffer.concat([
        Buffer.from([0xe0, 0x7f, 0x10, 0x00]), Buffer.from('OB\0\0', 'latin1'), u32(0xffffffff),
        item(Buffer.alloc(0)), item(fragment),
        ...(cut ? [] : [Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0])]),
      ]);
      await file.write(pixels);
      return { path, sopInstanceUid, studyInstanceUid, size: size + pixels.length, pixelOffset: size + 12, pixelLength: pixels.length - 12 };
    }
    if (!p) return { path, sopInstanceUid, studyInstanceUid, size };
    const frameBytes = p.rows * p.columns * (p.samplesPerPixel ?? 1);
    const frames = p.frames ?? 1;
    const pixelLength = frameBytes * frames + ((frameBytes * frames) % 2);
    const pixelHead = Buffer.alloc(12);
    pixelHead.writeUInt16LE(0x7fe0, 0);
    pixelHead.writeUInt16LE(0x0010, 2);
    pixelHead.write('OB', 4, 'latin1');
    pixelHead.writeUInt32LE(pixelLength, 8);
    await file.write(pixelHead);
    size += 12;
    const pixelOffset = size;
    const frame = randomBytes(frameBytes);
    for (let i = 0; i < frames; i++) {
      frame[0] = i & 0xff; // frames differ
      await file.write(frame);
    }
    if (pixelLength > frameBytes * frames) await file.write(Buffer.alloc(1));
    size += pixelLength;
    return { path, sopInstanceUid, studyInstanceUid, size, pixelOffset, pixelLength };
  } finally {
    await file.close();
  }
}
