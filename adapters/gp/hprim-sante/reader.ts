/**
 * Reads an HPRIM Santé 2.x message: delimiters from the H record, A lines joined back onto the
 * line before, fields split and unescaped. Written apart from the writer, from format-details.ts,
 * and lenient on input: CR, LF or CRLF, ISO 8859-1 or UTF-8, any record length.
 */
import { GpReadError } from '../errors';
import { ANY_LINE_BREAK, decodeLatin1OrUtf8 } from '../read-text';
import type { ReadReport, ReadResult } from '../report';
import * as F from './format-details';

/** A record: fields → repetitions → components, unescaped. */
export interface HprimRecord {
  type: string;
  /** 1-based line where the record starts. */
  line: number;
  fields: string[][][];
}

export interface HprimSanteMessage extends ReadReport {
  delimiters: F.HprimDelimiters;
  records: HprimRecord[];
  messageType: string;
  version: string;
  receiver?: { code: string; name: string };
  comments: string[];
}

export function readHprimSante(bytes: Buffer): HprimSanteMessage {
  const text = decodeLatin1OrUtf8(bytes).replace(/^\uFEFF/, '');
  if (!text.startsWith(F.RECORD.header)) throw new GpReadError('an HPRIM Santé message starts with an H record');
  const chars = [...text.slice(1, 6)];
  const [field, component, repetition, escape, subcomponent] = chars;
  if (chars.length < 5 || new Set(chars).size !== 5 || chars.some((c) => /[A-Za-z0-9\s]/.test(c))) {
    throw new GpReadError('line 1 (H): the delimiters (field, component, repetition, escape, sub-component) must be 5 distinct punctuation characters');
  }
  const delimiters = { field, component, repetition, escape, subcomponent };

  // Join A lines onto the line before; remember where each record started.
  const lines: Array<{ text: string; line: number }> = [];
  text.split(ANY_LINE_BREAK).forEach((line, i) => {
    if (line === '') return;
    if (line.startsWith(`${F.RECORD.continuation}${field}`)) {
      if (lines.length === 0) throw new GpReadError(`line ${i + 1}: an A line continues nothing`);
      lines[lines.length - 1].text += line.slice(2);
    } else lines.push({ text: line, line: i + 1 });
  });

  const records = lines.map(({ text: line, line: n }): HprimRecord => {
    const parts = line.split(field);
    const type = parts[0];
    if (!/^[A-Z]{1,3}$/.test(type)) throw new GpReadError(`line ${n}: a record starts with its type (H, P, OBR, OBX, C, L) and a field separator`);
    const fields = parts.map((raw, i) => {
      if (type === F.RECORD.header && i === F.H.delimiters) return [[raw]];
      return raw.split(repetition).map((rep) => rep.split(component).map((c) => unescape(c, delimiters)));
    });
    return { type, line: n, fields };
  });
  if (records[records.length - 1]?.type !== F.RECORD.end) throw new GpReadError('no L record at the end: the message is truncated');
  return toReport(records, delimiters);
}

function unescape(text: string, d: F.HprimDelimiters): string {
  const e = F.ESCAPE;
  const byName: Record<string, string> = { [e.field]: d.field, [e.component]: d.component, [e.repetition]: d.repetition, [e.escape]: d.escape, [e.subcomponent]: d.subcomponent, [e.lineBreak]: '\n' };
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === d.escape) {
      const end = text.indexOf(d.escape, i + 1);
      const name = end < 0 ? undefined : text.slice(i + 1, end);
      if (name !== undefined && name in byName) {
        out += byName[name];
        i = end;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

function toReport(records: HprimRecord[], delimiters: F.HprimDelimiters): HprimSanteMessage {
  const get = (r: HprimRecord | undefined, field: number, component = 0, rep = 0) => r?.fields[field]?.[rep]?.[component] ?? '';
  const h = records[0];
  const p = records.find((r) => r.type === F.RECORD.patient);
  const obr = records.find((r) => r.type === F.RECORD.request);
  const results: ReadResult[] = [];
  const comments: string[] = [];
  for (const r of records) {
    if (r.type === F.RECORD.comment) comments.push(get(r, F.C.text));
    if (r.type !== F.RECORD.result) continue;
    const result: ReadResult = {
      code: get(r, F.OBX.analysis, 0),
      label: get(r, F.OBX.analysis, 1),
      value: get(r, F.OBX.value),
      flags: (r.fields[F.OBX.flag] ?? []).map((rep) => rep[0]).filter((f) => f !== ''),
    };
    const unit = get(r, F.OBX.unit);
    if (unit) result.unit = unit;
    const range = get(r, F.OBX.range);
    const joiner = range.indexOf(F.RANGE_JOINER);
    if (joiner >= 0) {
      const low = range.slice(0, joiner).trim();
      const high = range.slice(joiner + F.RANGE_JOINER.length).trim();
      if (low) result.low = low;
      if (high) result.high = high;
    }
    const status = get(r, F.OBX.status);
    if (status) result.status = status;
    results.push(result);
  }
  const patient: ReadReport['patient'] = {};
  const set = (key: keyof ReadReport['patient'], value: string) => { if (value) patient[key] = value; };
  set('family', get(p, F.P.name, 0));
  set('given', get(p, F.P.name, 1));
  const birth = get(p, F.P.birthDate);
  if (/^\d{8}$/.test(birth)) patient.birthDate = `${birth.slice(0, 4)}-${birth.slice(4, 6)}-${birth.slice(6, 8)}`;
  set('sex', get(p, F.P.sex));
  set('ins', get(p, F.P.thirdId));
  set('localId', get(p, F.P.practiceId));
  const message: HprimSanteMessage = {
    delimiters,
    records,
    messageType: get(h, F.H.messageType),
    version: (h.fields[F.H.version]?.[0] ?? []).join(delimiters.component),
    comments,
    patient,
    correction: get(obr, F.OBR.reportStatus) === F.REPORT_STATUS.correction,
    results,
  };
  if (get(h, F.H.receiver)) message.receiver = { code: get(h, F.H.receiver, 0), name: get(h, F.H.receiver, 1) };
  if (get(p, F.P.attendingPhysician)) message.gp = { id: get(p, F.P.attendingPhysician, 0), family: get(p, F.P.attendingPhysician, 1) };
  if (get(obr, F.OBR.prescriber)) message.prescriber = { id: get(obr, F.OBR.prescriber, 0), family: get(obr, F.OBR.prescriber, 1) };
  return message;
}
