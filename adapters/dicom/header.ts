/**
 * The header of a stored object, read with dicom-parser from the first bytes of its file (up to
 * the pixel data, never the pixels), with names and text decoded per (0008,0005). Also checks that
 * the object is whole: a dataset cut short is refused here, before anyone hears of it.
 */
import { open } from 'node:fs/promises';
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';
import * as dicomParser from 'dicom-parser';
import { decoderFor } from './charset';
import { DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN } from './uids';

const PIXEL_DATA = 'x7fe00010';
/** Read this much first; a header with big private blocks or an icon gets more, up to the last size. */
const PREFIX_SIZES = [64 * 1024, 1024 * 1024, 16 * 1024 * 1024];
const SEQUENCE_DELIMITER = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);

export class UnreadableObjectError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnreadableObjectError';
  }
}

/** The attributes the imaging event is made of, text decoded, trailing padding removed. */
export interface ObjectHeader {
  transferSyntaxUid: string;
  characterSet?: string;
  /** False: (0008,0005) names a set not known here; text was read as Latin-1. */
  characterSetKnown: boolean;
  values: Partial<Record<Keyword, string>>;
}

/** Tag (dicom-parser's xggggeeee) of each attribute read. */
const TAGS = {
  SOPClassUID: 'x00080016',
  SOPInstanceUID: 'x00080018',
  StudyInstanceUID: 'x0020000d',
  SeriesInstanceUID: 'x0020000e',
  StudyDate: 'x00080020',
  SeriesDate: 'x00080021',
  AcquisitionDate: 'x00080022',
  ContentDate: 'x00080023',
  AcquisitionDateTime: 'x0008002a',
  StudyTime: 'x00080030',
  SeriesTime: 'x00080031',
  AcquisitionTime: 'x00080032',
  ContentTime: 'x00080033',
  AccessionNumber: 'x00080050',
  Modality: 'x00080060',
  Manufacturer: 'x00080070',
  StationName: 'x00081010',
  StudyDescription: 'x00081030',
  SeriesDescription: 'x0008103e',
  ManufacturerModelName: 'x00081090',
  TimezoneOffsetFromUTC: 'x00080201',
  PatientName: 'x00100010',
  PatientID: 'x00100020',
  IssuerOfPatientID: 'x00100021',
  PatientBirthDate: 'x00100030',
  PatientSex: 'x00100040',
  BodyPartExamined: 'x00180015',
  StudyID: 'x00200010',
  SeriesNumber: 'x00200011',
  InstanceNumber: 'x00200013',
  NumberOfFrames: 'x00280008',
} as const;
export type Keyword = keyof typeof TAGS;

/** Value representations whose text follows (0008,0005); the others are ASCII. */
const DECODED = new Set<Keyword>(['PatientName', 'PatientID', 'IssuerOfPatientID', 'StudyDescription', 'SeriesDescription', 'Manufacturer',
  'ManufacturerModelName', 'StationName', 'BodyPartExamined', 'StudyID', 'AccessionNumber']);

/** The deflated dataset inflated as far as the bytes read allow (the rest of the file is not needed). */
function inflatePrefix(bytes: Uint8Array, position: number): Uint8Array {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const inflated = inflateRawSync(buffer.subarray(position), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  return Buffer.concat([buffer.subarray(0, position), inflated]);
}

interface Parsed {
  dataSet: dicomParser.DataSet;
  /** Parsing stopped on an error (an element running past the bytes read). */
  error?: string;
}

function parse(bytes: Buffer): Parsed {
  try {
    return { dataSet: dicomParser.parseDicom(bytes, { untilTag: PIXEL_DATA, inflater: inflatePrefix as never }) };
  } catch (thrown) {
    const partial = thrown as { exception?: unknown; dataSet?: dicomParser.DataSet };
    const reason = String((partial.exception as Error | undefined)?.message ?? partial.exception ?? (thrown as Error)?.message ?? thrown);
    if (partial.dataSet) return { dataSet: partial.dataSet, error: reason };
    throw new UnreadableObjectError(`not a readable DICOM file: ${reason}`);
  }
}

/** Reads the header of the Part 10 file at `path` (`size` bytes) and checks the object is whole. */
export async function readObjectHeader(path: string, size: number): Promise<ObjectHeader> {
  const file = await open(path, 'r');
  let parsed: Parsed;
  let read = 0;
  try {
    for (const prefix of PREFIX_SIZES) {
      const length = Math.min(size, prefix);
      const bytes = Buffer.alloc(length);
      read = (await file.read(bytes, 0, length, 0)).bytesRead;
      parsed = parse(bytes.subarray(0, read));
      if (!parsed.error || read >= size) break;
    }
    const { dataSet, error } = parsed!;
    const transferSyntaxUid = dataSet.string('x00020010') ?? '';
    const deflated = transferSyntaxUid === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN;
    if (error && read >= size) throw new UnreadableObjectError(`the dataset is cut short or corrupt (${error})`);
    const pixels = dataSet.elements[PIXEL_DATA];
    if (pixels && !deflated) await checkPixelDataWhole(file, pixels, size);
    return decode(dataSet, transferSyntaxUid);
  } finally {
    await file.close();
  }
}

/** The pixel data must fit in the file; encapsulated pixel data must end with its delimiter. */
async function checkPixelDataWhole(file: import('node:fs/promises').FileHandle, pixels: dicomParser.Element, size: number): Promise<void> {
  if (pixels.length === 0xffffffff) {
    const tail = Buffer.alloc(SEQUENCE_DELIMITER.length);
    await file.read(tail, 0, tail.length, Math.max(0, size - tail.length));
    if (!tail.equals(SEQUENCE_DELIMITER)) throw new UnreadableObjectError('the encapsulated pixel data is cut short (no sequence delimiter at the end)');
  } else if (pixels.dataOffset + pixels.length > size) {
    throw new UnreadableObjectError(`the pixel data is cut short (${size - pixels.dataOffset} of ${pixels.length} bytes)`);
  }
}

function decode(dataSet: dicomParser.DataSet, transferSyntaxUid: string): ObjectHeader {
  const characterSet = dataSet.string('x00080005')?.trim() || undefined;
  const decoding = decoderFor(characterSet);
  const values: ObjectHeader['values'] = {};
  for (const [keyword, tag] of Object.entries(TAGS) as Array<[Keyword, string]>) {
    const element = dataSet.elements[tag];
    if (!element || element.length === 0 || element.length === 0xffffffff) continue;
    const end = element.dataOffset + element.length;
    if (end > dataSet.byteArray.length) continue;
    const bytes = Buffer.from(dataSet.byteArray.buffer, dataSet.byteArray.byteOffset + element.dataOffset, element.length);
    const text = (DECODED.has(keyword) ? decoding.decode(bytes) : bytes.toString('latin1')).replace(/[\0 ]+$/, '').replace(/^ +/, '');
    if (text !== '') values[keyword] = text;
  }
  return { transferSyntaxUid, characterSet, characterSetKnown: decoding.known, values };
}
