/**
 * Writes a GP report as an HPRIM Santé 2.2 message: H, P, OBR, its OBX and C records, L; records
 * longer than the limit go on in A lines; ISO 8859-1, CR. Layout: format-details.ts.
 */
import type { Code, PersonName, Provider } from '../../model';
import { GpFormatError } from '../errors';
import { analysisCode, analysisLabel, cannotCarry, flagsOf, insOf, isLoinc, localIdOf, valueText, type GpReport } from '../report';
import { dateParts, formatDecimal, toLatin1, wallClock } from '../text';
import type { WrittenFile } from '../hprim-medecin/writer';
import * as F from './format-details';

export interface HprimSanteOptions {
  /** The sending site: code and name (H.5 holds 15 characters in all: the name is shortened to fit). */
  sender: { code: string; name: string };
  timeZone?: string;
  /** Message date-time; default now. */
  now?: Date;
}

/** A field: a list of repetitions, each a list of components (plain text, escaped on writing). */
type Field = string | string[] | string[][];

export function writeHprimSante(report: GpReport, options: HprimSanteOptions): WrittenFile {
  const refusal = cannotCarry('hprim-sante', report);
  if (refusal) throw new GpFormatError(refusal);
  const d = F.DELIMITERS;
  const tz = options.timeZone;
  const time = (instant: string | undefined) => (instant ? hprimTime(instant, tz) : '');
  if (options.sender.code.length + 1 > F.H_SENDER_MAX) throw new GpFormatError(`the sender code leaves no room in H.5 (${F.H_SENDER_MAX} characters in all)`);
  const fileName = `${report.documentId.slice(0, 8).toUpperCase()}${F.FILE_EXTENSION}`;
  const records: string[] = [];
  // Transliterate each field before escaping and measuring: Œ → OE makes a record longer.
  const counts = { transliterated: 0, unrepresentable: 0 };
  const esc = (text: string) => {
    const latin1 = toLatin1(text);
    counts.transliterated += latin1.transliterated;
    counts.unrepresentable += latin1.unrepresentable;
    return escape(latin1.text);
  };
  const put = (type: string, fields: Record<number, Field>) => records.push(record(type, fields, esc));

  // H is written by hand: its first field is the delimiters themselves.
  const header: Record<number, Field> = {
    [F.H.fileName]: fileName,
    [F.H.sender]: [options.sender.code, options.sender.name.slice(0, F.H_SENDER_MAX - options.sender.code.length - 1)],
    [F.H.messageType]: F.MESSAGE_TYPE_RESULTS,
    [F.H.processingId]: F.PROCESSING_PRODUCTION,
    [F.H.version]: F.VERSION,
    [F.H.dateTime]: hprimTime((options.now ?? new Date()).toISOString(), tz),
  };
  if (report.gp) {
    const code = report.gp.id ?? '';
    header[F.H.receiver] = [code, nameText(report.gp.name).slice(0, Math.max(0, F.H_RECEIVER_MAX - code.length - 1))];
  }
  const emptyDelimiters = `${F.RECORD.header}${d.field}${d.field}`;
  records.push(record(F.RECORD.header, header, esc).replace(emptyDelimiters, `${F.RECORD.header}${d.field}${d.component}${d.repetition}${d.escape}${d.subcomponent}${d.field}`));

  const patient = report.patient;
  const p: Record<number, Field> = { [F.P.sequence]: '1', [F.P.practiceId]: localIdOf(patient) ?? '', [F.P.thirdId]: insOf(patient) ?? '' };
  if (patient.name) p[F.P.name] = [patient.name.family, patient.name.given?.[0] ?? '', patient.name.given?.slice(1).join(' ') ?? ''];
  if (patient.birthName) p[F.P.birthName] = patient.birthName;
  if (patient.birthDate) p[F.P.birthDate] = Object.values(dateParts(patient.birthDate)).join('');
  if (patient.sex) p[F.P.sex] = patient.sex;
  if (report.gp) p[F.P.attendingPhysician] = doctor(report.gp);
  put(F.RECORD.patient, p);

  const battery = report.items.find((i) => i.battery)?.battery;
  const obr: Record<number, Field> = {
    [F.OBR.sequence]: '1',
    [F.OBR.specimenId]: report.specimenId ?? '',
    [F.OBR.fillerNumber]: report.orderNumber ?? '',
    [F.OBR.collectedAt]: time(report.collectedAt),
    [F.OBR.actionCode]: F.ACTION_NEW,
    [F.OBR.receivedAt]: time(report.receivedAt),
    [F.OBR.reportedAt]: time(report.reportedAt),
    [F.OBR.reportStatus]: report.correction ? F.REPORT_STATUS.correction : F.REPORT_STATUS.final,
  };
  if (battery) obr[F.OBR.battery] = coded(battery);
  if (report.prescriber) obr[F.OBR.prescriber] = doctor(report.prescriber);
  put(F.RECORD.request, obr);

  report.items.forEach(({ observation: o }, i) => {
    const code = analysisCode(o);
    const range = o.referenceRange;
    put(F.RECORD.result, {
      [F.OBX.sequence]: String(i + 1),
      [F.OBX.valueType]: F.VALUE_TYPE[o.valueType],
      [F.OBX.analysis]: [code.code, analysisLabel(o), isLoinc(code) ? F.CODING_LOINC : F.CODING_LOCAL],
      [F.OBX.value]: valueText(o),
      [F.OBX.unit]: o.unit?.display ?? o.unit?.code ?? '',
      [F.OBX.range]: range && (range.low !== undefined || range.high !== undefined)
        ? `${range.low !== undefined ? formatDecimal(range.low) : ''}${F.RANGE_JOINER}${range.high !== undefined ? formatDecimal(range.high) : ''}`
        : range?.text ?? '',
      [F.OBX.flag]: flagsOf(o).map((f) => [f]),
      [F.OBX.status]: o.status,
      [F.OBX.observedAt]: time(o.observedAt),
    });
    if (o.comment) put(F.RECORD.comment, { [F.C.sequence]: '1', [F.C.source]: F.COMMENT_SOURCE, [F.C.text]: o.comment, [F.C.type]: F.COMMENT_TYPE });
  });
  put(F.RECORD.end, { [F.L.sequence]: '1' });

  const text = records.flatMap(continued).map((r) => r + F.RECORD_END).join('');
  return { bytes: Buffer.from(text, F.CHARSET), fileName, ...counts };
}

function nameText(name: PersonName | undefined): string {
  return name ? [name.family, ...(name.given ?? [])].join(' ') : '';
}

function doctor(provider: Provider): string[] {
  return [provider.id ?? '', nameText(provider.name)];
}

function coded(code: Code): string[] {
  return [code.code, code.display ?? '', isLoinc(code) ? F.CODING_LOINC : F.CODING_LOCAL];
}

/** One record: fields at their positions, escaped, trailing empty fields dropped. */
function record(type: string, fields: Record<number, Field>, escape: (text: string) => string): string {
  const d = F.DELIMITERS;
  const last = Math.max(0, ...Object.keys(fields).map(Number));
  const parts = [type];
  for (let i = 1; i <= last; i++) {
    const value = fields[i] ?? '';
    const repetitions = typeof value === 'string' ? [[value]] : typeof value[0] === 'string' ? [value as string[]] : (value as string[][]);
    parts.push(repetitions.map((components) => components.map(escape).join(d.component)).join(d.repetition));
  }
  return parts.join(d.field);
}

function escape(text: string): string {
  const d = F.DELIMITERS;
  const e = F.ESCAPE;
  const seq = (name: string) => `${d.escape}${name}${d.escape}`;
  const byChar: Record<string, string> = {
    [d.escape]: seq(e.escape), [d.field]: seq(e.field), [d.component]: seq(e.component), [d.repetition]: seq(e.repetition), [d.subcomponent]: seq(e.subcomponent),
  };
  return text
    .replace(/[|~^\\&]/g, (ch) => byChar[ch])
    .replace(/\r\n|\r|\n/g, seq(e.lineBreak))
    .replace(/[\x00-\x1f\x7f-\x9f]/g, ' ');
}

/** A record longer than the limit, as its first part and A lines carrying the rest. */
function continued(line: string): string[] {
  const limit = F.MAX_RECORD_LENGTH;
  if (line.length <= limit) return [line];
  const prefix = `${F.RECORD.continuation}${F.DELIMITERS.field}`;
  const lines = [line.slice(0, limit)];
  for (let at = limit; at < line.length; at += limit - prefix.length) lines.push(prefix + line.slice(at, at + limit - prefix.length));
  return lines;
}

function hprimTime(instant: string, timeZone?: string): string {
  const w = wallClock(instant, timeZone);
  return `${w.year}${w.month}${w.day}${w.hour}${w.minute}${w.second}`;
}
