/**
 * The storage SOP classes and transfer syntaxes the hub accepts, with their names from PS3.6.
 * The hub never decodes pixel data: it keeps the bytes as they came, so any transfer syntax whose
 * header it can read (little endian, explicit or implicit, or deflated) can be stored.
 */

import { createHash, randomUUID } from 'node:crypto';

export const VERIFICATION = '1.2.840.10008.1.1';
export const APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';

/** What a care centre meets: X-ray, ultrasound, CT, captures, photos, PDFs, reports. */
export const STORAGE_CLASSES: Readonly<Record<string, string>> = {
  '1.2.840.10008.5.1.4.1.1.1': 'Computed Radiography Image Storage',
  '1.2.840.10008.5.1.4.1.1.1.1': 'Digital X-Ray Image Storage - For Presentation',
  '1.2.840.10008.5.1.4.1.1.1.1.1': 'Digital X-Ray Image Storage - For Processing',
  '1.2.840.10008.5.1.4.1.1.2': 'CT Image Storage',
  '1.2.840.10008.5.1.4.1.1.2.1': 'Enhanced CT Image Storage',
  '1.2.840.10008.5.1.4.1.1.3.1': 'Ultrasound Multi-frame Image Storage',
  '1.2.840.10008.5.1.4.1.1.6.1': 'Ultrasound Image Storage',
  // Retired in 1993 and still sent by older ultrasound machines.
  '1.2.840.10008.5.1.4.1.1.3': 'Ultrasound Multi-frame Image Storage (Retired)',
  '1.2.840.10008.5.1.4.1.1.6': 'Ultrasound Image Storage (Retired)',
  '1.2.840.10008.5.1.4.1.1.7': 'Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.1': 'Multi-frame Single Bit Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.2': 'Multi-frame Grayscale Byte Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.3': 'Multi-frame Grayscale Word Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.4': 'Multi-frame True Color Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.77.1.4': 'VL Photographic Image Storage',
  '1.2.840.10008.5.1.4.1.1.77.1.7': 'Dermoscopic Photography Image Storage',
  '1.2.840.10008.5.1.4.1.1.104.1': 'Encapsulated PDF Storage',
  '1.2.840.10008.5.1.4.1.1.88.11': 'Basic Text SR Storage',
  '1.2.840.10008.5.1.4.1.1.88.22': 'Enhanced SR Storage',
  '1.2.840.10008.5.1.4.1.1.88.33': 'Comprehensive SR Storage',
};

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';

/** In the order the hub prefers when a modality proposes several in one presentation context. */
export const TRANSFER_SYNTAXES: Readonly<Record<string, string>> = {
  [EXPLICIT_VR_LITTLE_ENDIAN]: 'Explicit VR Little Endian',
  [IMPLICIT_VR_LITTLE_ENDIAN]: 'Implicit VR Little Endian',
  [DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN]: 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline (Process 1)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless, Non-Hierarchical (Process 14)',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Lossy (Near-Lossless)',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile / Main Level',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264 High Profile / Level 4.1',
};

/**
 * A UID: digits and dots, at most 64 characters (PS3.5 9.1; leading zeros in a component, which
 * it forbids, are seen from real devices and tolerated). Also what makes it safe in a file name.
 */
export const UID_PATTERN = /^[0-9]+(\.[0-9]+)*$/;

export function isUid(value: string): boolean {
  return value.length <= 64 && UID_PATTERN.test(value);
}

/** A UUID as a UID under 2.25 (ISO/IEC 9834-8): its 128 bits as one decimal number. */
function uidOfUuid(uuid: string): string {
  return `2.25.${BigInt(`0x${uuid.replace(/-/g, '')}`).toString()}`;
}

/** A UUID-derived UID (2.25, ISO/IEC 9834-8): unique with no registered root. */
export function uuidUid(): string {
  return uidOfUuid(randomUUID());
}

/** The hub's namespace for name-based UIDs (a random UUID drawn once). */
const PASSERELLE_NAMESPACE = Buffer.from('5b0e3c1e9d2a4f6b8c7d1e2f3a4b5c6d', 'hex');

/**
 * The same UID for the same name, every time and on every hub: a name-based (SHA-1, version 5)
 * UUID (RFC 4122 4.3) under the hub's namespace, as a 2.25 UID. E.g. a teleconsultation's study.
 */
export function nameUid(name: string): string {
  const hash = createHash('sha1').update(PASSERELLE_NAMESPACE).update(name, 'utf8').digest().subarray(0, 16);
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  return uidOfUuid(hash.toString('hex'));
}

/** The transfer syntax to accept among those proposed (the proposer's order), or undefined. */
export function chooseTransferSyntax(proposed: readonly string[]): string | undefined {
  return proposed.find((uid) => uid in TRANSFER_SYNTAXES);
}
