/**
 * Reads the markers of a JPEG file (ITU-T T.81 annex B) far enough to put it, byte for byte, in
 * a DICOM object with the JPEG Baseline transfer syntax (1.2.840.10008.1.2.4.50): the frame
 * header (SOF0) gives rows, columns and components; the scans are walked to the EOI marker so a
 * file cut short is refused. Nothing is decoded: the pixels are never looked at.
 */

export type JpegProblem = 'not-jpeg' | 'truncated' | 'not-baseline' | 'corrupt';

/** Input that cannot be kept as JPEG Baseline; `offset` is where in the bytes the problem is. */
export class InvalidJpegError extends Error {
  constructor(readonly problem: JpegProblem, reason: string, readonly offset: number) {
    super(`${PREFIX[problem]}: ${reason} (byte ${offset})`);
    this.name = 'InvalidJpegError';
  }
}

const PREFIX: Record<JpegProblem, string> = {
  'not-jpeg': 'not a JPEG file',
  truncated: 'the JPEG file is cut short',
  'not-baseline': 'not a baseline JPEG',
  corrupt: 'the JPEG file is corrupt',
};

export interface JpegInfo {
  rows: number;
  columns: number;
  /** 1 (greyscale) or 3 (colour). */
  components: number;
  bitsPerSample: 8;
  /** Horizontal × vertical sampling factors of each component, in frame order. */
  sampling: Array<[number, number]>;
  /** What DICOM calls the pixels as this JPEG codes them (PS3.5 8.2.1, PS3.3 C.8.12.1). */
  photometricInterpretation: 'MONOCHROME2' | 'YBR_FULL_422' | 'RGB';
  /** A JFIF (APP0) or Exif (APP1) header is there. */
  jfif: boolean;
  exif: boolean;
  /** The byte after EOI; bytes after it (some cameras append data) are kept with the rest. */
  end: number;
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const SOF0 = 0xc0;
/** Frame headers of the other processes: extended, progressive, lossless, hierarchical, arithmetic. */
const OTHER_SOF: Record<number, string> = {
  0xc1: 'extended sequential (SOF1)', 0xc2: 'progressive (SOF2)', 0xc3: 'lossless (SOF3)',
  0xc5: 'differential sequential (SOF5)', 0xc6: 'differential progressive (SOF6)', 0xc7: 'differential lossless (SOF7)',
  0xc9: 'arithmetic sequential (SOF9)', 0xca: 'arithmetic progressive (SOF10)', 0xcb: 'arithmetic lossless (SOF11)',
  0xcd: 'arithmetic differential sequential (SOF13)', 0xce: 'arithmetic differential progressive (SOF14)', 0xcf: 'arithmetic differential lossless (SOF15)',
};

/** Markers without a length: TEM and the restart markers. */
const standalone = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);

/** Reads and checks the markers of a baseline JPEG; throws InvalidJpegError with what and where. */
export function readJpeg(bytes: Buffer): JpegInfo {
  if (bytes.length < 2 || bytes[0] !== 0xff || bytes[1] !== SOI) throw new InvalidJpegError('not-jpeg', 'it does not start with the SOI marker FF D8', 0);
  let offset = 2;
  let frame: Omit<JpegInfo, 'end' | 'jfif' | 'exif' | 'photometricInterpretation'> | undefined;
  let adobeTransform: number | undefined;
  let jfif = false;
  let exif = false;
  let scans = 0;
  for (;;) {
    if (offset >= bytes.length) throw new InvalidJpegError('truncated', 'it ends before the EOI marker', offset);
    if (bytes[offset] !== 0xff) throw new InvalidJpegError('corrupt', `a marker was expected, found 0x${hex(bytes[offset])}`, offset);
    // Any number of FF fill bytes may precede a marker.
    let at = offset + 1;
    while (at < bytes.length && bytes[at] === 0xff) at += 1;
    if (at >= bytes.length) throw new InvalidJpegError('truncated', 'it ends inside a marker', at);
    const marker = bytes[at];
    const start = at - 1;
    offset = at + 1;
    if (marker === EOI) {
      if (!frame) throw new InvalidJpegError('corrupt', 'EOI before any frame header', start);
      if (scans === 0) throw new InvalidJpegError('corrupt', 'EOI before any scan', start);
      return { ...frame, jfif, exif, photometricInterpretation: photometric(frame.components, adobeTransform), end: offset };
    }
    if (marker === SOI || marker === 0x00) throw new InvalidJpegError('corrupt', `unexpected marker FF ${hex(marker)}`, start);
    if (standalone(marker)) continue;
    if (offset + 2 > bytes.length) throw new InvalidJpegError('truncated', `it ends inside the length of marker FF ${hex(marker)}`, offset);
    const length = bytes.readUInt16BE(offset);
    if (length < 2) throw new InvalidJpegError('corrupt', `marker FF ${hex(marker)} has a length of ${length}`, offset);
    if (offset + length > bytes.length) throw new InvalidJpegError('truncated', `marker FF ${hex(marker)} needs ${length} bytes, ${bytes.length - offset} remain`, offset);
    const segment = bytes.subarray(offset + 2, offset + length);
    if (OTHER_SOF[marker]) throw new InvalidJpegError('not-baseline', `its frame is ${OTHER_SOF[marker]}; only baseline (SOF0) can be kept as is in DICOM`, start);
    if (marker === SOF0) {
      if (frame) throw new InvalidJpegError('corrupt', 'a second frame header', start);
      frame = readFrame(segment, offset + 2);
    } else if (marker === 0xe0 && segment.subarray(0, 5).toString('latin1') === 'JFIF\0') {
      jfif = true;
    } else if (marker === 0xe1 && segment.subarray(0, 6).toString('latin1') === 'Exif\0\0') {
      exif = true;
    } else if (marker === 0xee && segment.length >= 12 && segment.subarray(0, 5).toString('latin1') === 'Adobe') {
      adobeTransform = segment[11];
    }
    offset += length;
    if (marker === SOS) {
      if (!frame) throw new InvalidJpegError('corrupt', 'a scan before the frame header', start);
      scans += 1;
      offset = skipEntropyCoded(bytes, offset);
    }
  }
}

function readFrame(segment: Buffer, at: number): Omit<JpegInfo, 'end' | 'jfif' | 'exif' | 'photometricInterpretation'> {
  if (segment.length < 6) throw new InvalidJpegError('corrupt', 'the frame header is too short', at);
  const precision = segment[0];
  const rows = segment.readUInt16BE(1);
  const columns = segment.readUInt16BE(3);
  const components = segment[5];
  if (precision !== 8) throw new InvalidJpegError('not-baseline', `${precision} bits per sample; baseline is 8`, at);
  if (rows === 0) throw new InvalidJpegError('not-baseline', 'the number of lines is given later (DNL marker)', at + 1);
  if (columns === 0) throw new InvalidJpegError('corrupt', 'zero columns', at + 3);
  if (components !== 1 && components !== 3) throw new InvalidJpegError('not-baseline', `${components} components; DICOM photos have 1 (greyscale) or 3 (colour)`, at + 5);
  if (segment.length !== 6 + 3 * components) throw new InvalidJpegError('corrupt', `the frame header's length does not fit ${components} components`, at);
  const sampling: Array<[number, number]> = [];
  for (let c = 0; c < components; c++) {
    const factors = segment[6 + 3 * c + 1];
    const h = factors >> 4;
    const v = factors & 0x0f;
    if (h < 1 || h > 4 || v < 1 || v > 4) throw new InvalidJpegError('corrupt', `component ${c + 1} has sampling factors ${h}×${v}`, at + 7 + 3 * c);
    sampling.push([h, v]);
  }
  return { rows, columns, components, bitsPerSample: 8, sampling };
}

/**
 * Colour JPEG is YCbCr (JFIF), unless an Adobe APP14 says transform 0 (RGB as is). DICOM's VL
 * Image module names YBR_FULL_422 for JPEG's YCbCr whatever the chroma sampling — [verify] 4:4:4.
 */
function photometric(components: number, adobeTransform: number | undefined): JpegInfo['photometricInterpretation'] {
  if (components === 1) return 'MONOCHROME2';
  return adobeTransform === 0 ? 'RGB' : 'YBR_FULL_422';
}

/** Entropy-coded data ends at the first marker that is not stuffing (FF 00) or a restart (FF D0–D7). */
function skipEntropyCoded(bytes: Buffer, from: number): number {
  let at = from;
  for (;;) {
    at = bytes.indexOf(0xff, at);
    if (at < 0 || at + 1 >= bytes.length) throw new InvalidJpegError('truncated', 'it ends inside the scan data, before the EOI marker', bytes.length);
    const next = bytes[at + 1];
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) {
      at += next === 0xff ? 1 : 2;
      continue;
    }
    return at;
  }
}

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
