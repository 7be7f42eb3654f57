/**
 * Writes a GP report as an HPRIM Médecin file: the 12-line header the GP's software matches the
 * patient on, the report as text, the ****LAB**** block of RES| lines its software files as
 * structured results, and the end markers. Layout: format-details.ts.
 */
import { GpFormatError } from '../errors';
import { analysisCode, analysisLabel, flagsOf, insOf, localIdOf, subjectOf, valueText, type GpReport, type ReportItem } from '../report';
import { dateParts, formatDecimal, toLatin1, wallClock } from '../text';
import * as F from './format-details';

export interface HprimMedecinOptions {
  /** The sending site: code (≤ 10 characters) and label. */
  sender: { code: string; name: string };
  /** The code the GP's software expects on line 12 (directory hprimCode); blank when unknown. */
  recipientCode?: string;
  timeZone?: string;
}

export interface WrittenFile {
  bytes: Buffer;
  fileName: string;
  /** Characters written as something else (Œ → OE) and characters written as '?'. */
  transliterated: number;
  unrepresentable: number;
}

export function writeHprimMedecin(report: GpReport, options: HprimMedecinOptions): WrittenFile {
  if (options.sender.code.length > F.CODE_WIDTH) throw new GpFormatError(`the sender code is longer than ${F.CODE_WIDTH} characters`);
  if ((options.recipientCode?.length ?? 0) > F.CODE_WIDTH) throw new GpFormatError(`the recipient code is longer than ${F.CODE_WIDTH} characters`);
  const tz = options.timeZone;
  const patient = report.patient;
  // Transliterate each piece before cleaning it: a compatibility form can be a '|' (U+FF5C → |).
  const counts = { transliterated: 0, unrepresentable: 0 };
  const latin1 = (text: string) => {
    const l = toLatin1(text);
    counts.transliterated += l.transliterated;
    counts.unrepresentable += l.unrepresentable;
    return l.text;
  };
  const field = (value: string) => latin1(value).replace(/\|/g, F.PIPE_SUBSTITUTE).replace(CONTROL, ' ');
  const oneLine = (value: string) => latin1(value).replace(CONTROL, ' ');
  const header: string[] = new Array<string>(F.HEADER_LINES).fill('');
  const set = (line: number, value: string) => { header[line - 1] = oneLine(value); };
  set(F.HEADER.patientCode, localIdOf(patient) ?? report.orderNumber ?? '');
  set(F.HEADER.familyName, patient.name?.family ?? '');
  set(F.HEADER.givenName, patient.name?.given?.[0] ?? '');
  if (patient.birthDate) {
    const d = dateParts(patient.birthDate);
    if (d.month && d.day) set(F.HEADER.birthDate, F.formatFrenchDate(d.year, d.month, d.day));
  }
  const ins = insOf(patient);
  if (ins && ins.length === 15) set(F.HEADER.nir, `${ins.slice(0, 13)} ${ins.slice(13)}`);
  set(F.HEADER.fileNumber, report.orderNumber ?? report.specimenId ?? '');
  const exam = wallClock(report.collectedAt ?? report.receivedAt, tz);
  set(F.HEADER.examDate, F.formatFrenchDate(exam.year, exam.month, exam.day));
  set(F.HEADER.sender, options.sender.code.padEnd(F.CODE_WIDTH) + options.sender.name);
  set(F.HEADER.recipient, (options.recipientCode ?? '').padEnd(F.CODE_WIDTH) + doctorLabel(report));

  // A line of data that looks like a marker would end the block early: it gets a leading space.
  const text = reportText(report, tz).map((line) => oneLine(line).replace(/^(\s*\*{4})/, ' $1'));
  const lines = [
    ...header,
    ...text,
    F.LAB_START,
    ...text.map((line) => [F.TEXT_RECORD, line.replace(/\|/g, F.PIPE_SUBSTITUTE)].join(F.FIELD_SEPARATOR)),
    ...report.items.map((item) => resLine(item, field)),
    F.LAB_END,
    F.FILE_END,
  ];
  return { bytes: Buffer.from(lines.join(F.LINE_END) + F.LINE_END, F.CHARSET), fileName: `${report.documentId.slice(0, 8).toUpperCase()}${F.FILE_EXTENSION}`, ...counts };
}

function doctorLabel(report: GpReport): string {
  const name = report.gp?.name;
  return name ? [name.prefix ?? 'Dr', name.family, ...(name.given ?? [])].join(' ') : '';
}

/** The report as a person reads it: title, prescriber, collection (or teleconsultation, exam), then one line per result. */
function reportText(report: GpReport, timeZone?: string): string[] {
  const lines = [report.correction ? F.CORRECTION_TITLE : F.TITLES[subjectOf(report)]];
  const prescriber = report.prescriber?.name;
  if (prescriber) lines.push(`Prescripteur : ${[prescriber.prefix, prescriber.family, ...(prescriber.given ?? [])].filter(Boolean).join(' ')}`);
  if (report.collectedAt) {
    const c = wallClock(report.collectedAt, timeZone);
    lines.push(`${F.WHEN_LABELS[subjectOf(report)]} : ${F.formatFrenchDate(c.year, c.month, c.day)} ${c.hour}:${c.minute}`);
  }
  lines.push('');
  for (const { observation } of report.items) {
    const o = observation;
    const range = o.referenceRange && (o.referenceRange.low !== undefined || o.referenceRange.high !== undefined)
      ? ` (${o.referenceRange.low !== undefined ? formatDecimal(o.referenceRange.low) : ''} - ${o.referenceRange.high !== undefined ? formatDecimal(o.referenceRange.high) : ''})`
      : '';
    const flags = flagsOf(o).filter((f) => f !== 'N');
    const value = valueText(o).split(/\r\n|\r|\n/);
    lines.push(`${analysisLabel(o)} : ${value[0]}${o.unit ? ` ${o.unit.display ?? o.unit.code}` : ''}${range}${flags.length > 0 ? ` ${flags.join(' ')}` : ''}`, ...value.slice(1));
    if (o.comment) lines.push(...o.comment.split(/\r\n|\r|\n/).map((l) => `  ${l}`));
  }
  return lines;
}

function resLine({ observation: o }: ReportItem, field: (value: string) => string): string {
  const fields = new Array<string>(F.RES_FIELD_COUNT).fill('');
  fields[0] = F.RESULT_RECORD;
  fields[F.RES.label] = field(analysisLabel(o));
  fields[F.RES.code] = field(analysisCode(o).code);
  fields[F.RES.valueType] = typeof o.value === 'number' ? F.VALUE_TYPE.numeric : F.VALUE_TYPE.text;
  fields[F.RES.value] = field(valueText(o));
  fields[F.RES.unit] = field(o.unit?.display ?? o.unit?.code ?? '');
  if (o.referenceRange?.low !== undefined) fields[F.RES.low] = formatDecimal(o.referenceRange.low);
  if (o.referenceRange?.high !== undefined) fields[F.RES.high] = formatDecimal(o.referenceRange.high);
  fields[F.RES.flag] = flagsOf(o).join(F.FLAG_JOINER);
  fields[F.RES.status] = o.status;
  // The second-unit fields (value2..high2) stay empty: results carry one unit.
  return fields.slice(0, F.RES.status + 1).join(F.FIELD_SEPARATOR);
}

// Line breaks and other control characters: a header line or a RES field is one line.
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;
