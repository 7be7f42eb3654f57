/** The pixel data of a Part 10 file, as bytes, read with dicom-parser (small files only: whole in memory). */
import { readFileSync } from 'node:fs';
import * as dicomParser from 'dicom-parser';

export function pixelDataOf(bytes: Buffer): Buffer {
  const dataSet = dicomParser.parseDicom(bytes);
  // Offsets are into the parsed byte array: for a deflated dataset, the inflated one.
  const parsed = Buffer.from(dataSet.byteArray.buffer, dataSet.byteArray.byteOffset, dataSet.byteArray.byteLength);
  const element = dataSet.elements.x7fe00010;
  if (!element) throw new Error('no pixel data');
  if (element.length !== 0xffffffff && !element.fragments) return Buffer.from(parsed.subarray(element.dataOffset, element.dataOffset + element.length));
  if (!element.fragments) throw new Error('encapsulated pixel data without its fragments');
  // Encapsulated: the fragments' bytes in order (what a PACS must keep whatever it re-wraps).
  return Buffer.concat(element.fragments.map((f) => parsed.subarray(f.position, f.position + f.length)));
}

export function pixelDataOfFile(path: string): Buffer {
  return pixelDataOf(readFileSync(path));
}

/** The fragments of encapsulated pixel data, each as stored (the Basic Offset Table not included). */
export function fragmentsOf(bytes: Buffer): Buffer[] {
  const dataSet = dicomParser.parseDicom(bytes);
  const parsed = Buffer.from(dataSet.byteArray.buffer, dataSet.byteArray.byteOffset, dataSet.byteArray.byteLength);
  const element = dataSet.elements.x7fe00010;
  if (!element?.fragments) throw new Error('no encapsulated pixel data');
  return element.fragments.map((f) => Buffer.from(parsed.subarray(f.position, f.position + f.length)));
}
