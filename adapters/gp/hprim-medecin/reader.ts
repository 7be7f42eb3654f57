/**
 * Reads an HPRIM Médecin file: the 12-line header and the RES| lines of the ****LAB**** block.
 * Written apart from the writer, from the layout in format-details.ts, and tolerant the way
 * files in the field require: CR, LF or CRLF, ISO 8859-1 or UTF-8, ',' or '.' decimals.
 */
import { GpReadError } from '../errors';
import { ANY_LINE_BREAK, decodeLatin1OrUtf8 } from '../read-text';
import type { ReadReport, ReadResult } from '../report';
import * as F from './format-details';

export interface HprimMedecinFile extends ReadReport {
  header: string[];
  /** The free text above the LAB block. */
  text: string[];
  /** TEX| lines of the LAB block. */
  tex: string[];
  senderCode: string;
  recipientCode: string;
  recipientLabel: string;
  fileNumber: string;
  examDate?: string;
}

export function readHprimMedecin(bytes: Buffer): HprimMedecinFile {
  const lines = decodeLatin1OrUtf8(bytes).split(ANY_LINE_BREAK);
  if (lines.length < F.HEADER_LINES) throw new GpReadError(`an HPRIM Médecin file has ${F.HEADER_LINES} header lines, found ${lines.length}`);
  const header = lines.slice(0, F.HEADER_LINES);
  const line = (n: number) => header[n - 1];
  const end = lines.indexOf(F.FILE_END, F.HEADER_LINES);
  if (end < 0) throw new GpReadError(`no ${F.FILE_END} line: the file is truncated`);
  const labStart = lines.indexOf(F.LAB_START, F.HEADER_LINES);
  const labEnd = labStart < 0 ? -1 : lines.indexOf(F.LAB_END, labStart);
  if (labStart >= 0 && (labEnd < 0 || labEnd > end)) throw new GpReadError(`${F.LAB_START} is not closed by ${F.LAB_END} before ${F.FILE_END}`);

  const results: ReadResult[] = [];
  const tex: string[] = [];
  for (let i = labStart + 1; labStart >= 0 && i < labEnd; i++) {
    const fields = lines[i].split(F.FIELD_SEPARATOR);
    if (fields[0] === F.TEXT_RECORD) tex.push(fields.slice(1).join(F.FIELD_SEPARATOR));
    else if (fields[0] === F.RESULT_RECORD) results.push(resultOf(fields, i + 1));
    else if (lines[i].trim() !== '') throw new GpReadError(`line ${i + 1}: a LAB block line starts with ${F.TEXT_RECORD}| or ${F.RESULT_RECORD}|`);
  }
  const recipient = line(F.HEADER.recipient);
  const nir = line(F.HEADER.nir).replace(/\s+/g, '');
  const patient: ReadReport['patient'] = { family: line(F.HEADER.familyName), given: line(F.HEADER.givenName) };
  const birth = isoDate(line(F.HEADER.birthDate));
  if (birth) patient.birthDate = birth;
  if (nir) patient.ins = nir;
  if (line(F.HEADER.patientCode)) patient.localId = line(F.HEADER.patientCode);
  const exam = isoDate(line(F.HEADER.examDate));
  return {
    header,
    text: lines.slice(F.HEADER_LINES, labStart >= 0 ? labStart : end),
    tex,
    senderCode: line(F.HEADER.sender).slice(0, F.CODE_WIDTH).trim(),
    recipientCode: recipient.slice(0, F.CODE_WIDTH).trim(),
    recipientLabel: recipient.slice(F.CODE_WIDTH).trim(),
    fileNumber: line(F.HEADER.fileNumber),
    ...(exam ? { examDate: exam } : {}),
    patient,
    gp: { id: recipient.slice(0, F.CODE_WIDTH).trim(), family: recipient.slice(F.CODE_WIDTH).trim() },
    correction: results.some((r) => r.status === 'C'),
    results,
  };
}

function resultOf(fields: string[], lineNumber: number): ReadResult {
  const at = (i: number) => fields[i] ?? '';
  if (at(F.RES.code) === '' && at(F.RES.label) === '') throw new GpReadError(`line ${lineNumber}: a RES line has neither label nor code`);
  const result: ReadResult = { code: at(F.RES.code), label: at(F.RES.label), value: at(F.RES.value), flags: at(F.RES.flag) === '' ? [] : at(F.RES.flag).split(F.FLAG_JOINER) };
  if (at(F.RES.unit)) result.unit = at(F.RES.unit);
  if (at(F.RES.low)) result.low = at(F.RES.low).replace(',', '.');
  if (at(F.RES.high)) result.high = at(F.RES.high).replace(',', '.');
  if (at(F.RES.status)) result.status = at(F.RES.status);
  if (at(F.RES.valueType) === F.VALUE_TYPE.numeric) result.value = result.value.replace(',', '.');
  return result;
}

/** JJ/MM/AAAA → AAAA-MM-JJ, or undefined. */
function isoDate(text: string): string | undefined {
  const m = /^\s*(\d{2})\/(\d{2})\/(\d{4})\s*$/.exec(text);
  return m ? `${m[3]}-${m[2]}-${m[1]}` : undefined;
}
