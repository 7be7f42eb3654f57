/**
 * The Modality Worklist (PS3.4 annex K): the scheduled procedure steps of the record's imaging
 * orders, offered to the modalities that query them with a C-FIND on 1.2.840.10008.5.1.4.31.
 * The query's keys are matched as PS3.4 C.2.2.2 says: universal (zero length), single value,
 * wild card (* and ?) for the text VRs, range for dates and times (each matched alone: combined
 * date-time matching is an extended negotiation the hub does not offer), UID lists, and sequence
 * matching for the Scheduled Procedure Step Sequence. An entity without a value never matches a
 * key that has one. Person names match whatever their case and accents (C.2.2.2.1.1 leaves it to
 * the SCP). Answers carry the keys asked for, in UTF-8 (ISO_IR 192); dcmjs decoded the query per
 * its own (0008,0005).
 */
import type { ImagingOrder } from '../hl7/orders';
import type { PersonName } from '../model/result';
import { AE_TITLE } from './endpoint';

export const MODALITY_WORKLIST_FIND = '1.2.840.10008.5.1.4.31';

/** A dcmjs naturalized dataset (keywords → values); sequences are arrays of them. */
export type NaturalDataset = Record<string, unknown>;

export interface WorklistOptions {
  /** Station AE titles for steps whose order assigned none (ORM carries none), by modality. */
  stationsByModality?: Readonly<Record<string, readonly string[]>>;
}

/**
 * "CT=CT01 CT02; US=ECHO1" → { CT: ['CT01', 'CT02'], US: ['ECHO1'] }: the stations that may
 * perform a modality's steps when the order names none. Throws on a malformed entry.
 */
export function parseStationsByModality(text: string): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const entry of text.split(/[;\n]/).map((e) => e.trim()).filter((e) => e !== '')) {
    const m = /^([A-Za-z0-9_]{1,16})\s*=\s*(.+)$/.exec(entry);
    const titles = m ? m[2].split(/[,\s]+/).filter((t) => t !== '') : [];
    const bad = titles.find((t) => !AE_TITLE.test(t));
    if (!m || titles.length === 0 || bad) throw new Error(`"${entry}" is not MODALITY=AE title(s), e.g. CT=CT01 CT02`);
    map[m[1].toUpperCase()] = titles;
  }
  return map;
}

type Vr = 'AE' | 'CS' | 'DA' | 'LO' | 'PN' | 'SH' | 'TM' | 'UI';

interface Attribute {
  vr: Vr;
  /** The entity's values (empty: none). */
  values(order: ImagingOrder, options: WorklistOptions): string[];
}

/** PN as DICOM writes it: family^given^middle^prefix. */
export function dicomName(name: PersonName | undefined): string | undefined {
  if (!name) return undefined;
  const [given, ...middle] = name.given ?? [];
  return [name.family, given ?? '', middle.join(' '), name.prefix ?? ''].join('^').replace(/\^+$/, '');
}

const one = (value: string | undefined): string[] => (value === undefined || value === '' ? [] : [value]);

const TOP_LEVEL: Readonly<Record<string, Attribute>> = {
  AccessionNumber: { vr: 'SH', values: (o) => one(o.accessionNumber) },
  PatientName: { vr: 'PN', values: (o) => one(dicomName(o.patient.name)) },
  PatientID: { vr: 'LO', values: (o) => one(o.patient.identifiers[0]?.value) },
  IssuerOfPatientID: { vr: 'LO', values: (o) => one(o.patient.identifiers[0]?.authorityName ?? o.patient.identifiers[0]?.authority) },
  PatientBirthDate: { vr: 'DA', values: (o) => one(o.patient.birthDate?.length === 10 ? o.patient.birthDate.replace(/-/g, '') : undefined) },
  PatientSex: { vr: 'CS', values: (o) => one(o.patient.sex) },
  ReferringPhysicianName: { vr: 'PN', values: (o) => one(dicomName(o.referringPhysician)) },
  StudyInstanceUID: { vr: 'UI', values: (o) => one(o.studyInstanceUid) },
  RequestedProcedureID: { vr: 'SH', values: (o) => one(o.requestedProcedure.id) },
  RequestedProcedureDescription: { vr: 'LO', values: (o) => one(o.requestedProcedure.code?.display ?? o.requestedProcedure.code?.code) },
  PlacerOrderNumberImagingServiceRequest: { vr: 'LO', values: (o) => one(o.placerNumber) },
  FillerOrderNumberImagingServiceRequest: { vr: 'LO', values: (o) => one(o.fillerNumber) },
};

/** Attributes of the Scheduled Procedure Step Sequence's item. */
const STEP: Readonly<Record<string, Attribute>> = {
  ScheduledStationAETitle: {
    vr: 'AE',
    // Cut to DICOM's 16 characters (the encoder would cut them anyway): what is matched is what is answered.
    values: (o, options) => (o.step.stationAeTitles.length > 0 ? o.step.stationAeTitles : [...(options.stationsByModality?.[o.step.modality ?? ''] ?? [])]).map((t) => t.slice(0, 16)),
  },
  ScheduledProcedureStepStartDate: { vr: 'DA', values: (o) => one(o.step.start?.date) },
  ScheduledProcedureStepStartTime: { vr: 'TM', values: (o) => one(o.step.start?.time) },
  Modality: { vr: 'CS', values: (o) => one(o.step.modality) },
  ScheduledProcedureStepID: { vr: 'SH', values: (o) => one(o.step.id) },
  ScheduledProcedureStepDescription: { vr: 'LO', values: (o) => one(o.step.protocol?.display ?? o.requestedProcedure.code?.display) },
  ScheduledStationName: { vr: 'SH', values: (o) => one(o.step.stationName) },
  ScheduledProcedureStepLocation: { vr: 'SH', values: (o) => one(o.step.location) },
  ScheduledProcedureStepStatus: { vr: 'CS', values: () => ['SCHEDULED'] },
  ScheduledPerformingPhysicianName: { vr: 'PN', values: () => [] },
};

const STEP_SEQUENCE = 'ScheduledProcedureStepSequence';

/** Code sequences the hub can fill: Code Value, Coding Scheme Designator, Code Meaning. */
const CODE_SEQUENCES: Readonly<Record<string, (o: ImagingOrder) => ImagingOrder['step']['protocol']>> = {
  RequestedProcedureCodeSequence: (o) => o.requestedProcedure.code,
};
const STEP_CODE_SEQUENCES: Readonly<Record<string, (o: ImagingOrder) => ImagingOrder['step']['protocol']>> = {
  ScheduledProtocolCodeSequence: (o) => o.step.protocol,
};

/** The datasets to answer a worklist query with: one per matching step, the keys asked for. */
export function answerWorklistQuery(query: NaturalDataset, steps: readonly ImagingOrder[], options: WorklistOptions = {}): NaturalDataset[] {
  const stepQuery = firstItem(query[STEP_SEQUENCE]);
  return steps
    .filter((order) => matchesAll(query, TOP_LEVEL, order, options) && (stepQuery === undefined || matchesAll(stepQuery, STEP, order, options)))
    .map((order) => answer(query, stepQuery, order, options));
}

function firstItem(value: unknown): NaturalDataset | undefined {
  return Array.isArray(value) && value.length > 0 && typeof value[0] === 'object' && value[0] !== null ? (value[0] as NaturalDataset) : undefined;
}

function matchesAll(keys: NaturalDataset, attributes: Readonly<Record<string, Attribute>>, order: ImagingOrder, options: WorklistOptions): boolean {
  for (const [keyword, attribute] of Object.entries(attributes)) {
    if (!(keyword in keys)) continue;
    const wanted = queryValue(keys[keyword], attribute.vr);
    if (wanted === '') continue; // universal matching
    const values = attribute.values(order, options);
    if (!values.some((value) => matches(attribute.vr, wanted, value))) return false;
  }
  return true;
}

/** The key's value as one string ('' for zero length); multiple values joined with '\'. */
function queryValue(value: unknown, vr: Vr): string {
  if (value === undefined || value === null) return '';
  if (vr === 'PN') {
    const first = Array.isArray(value) ? value[0] : value;
    const alphabetic = typeof first === 'object' && first !== null ? (first as { Alphabetic?: string }).Alphabetic : first;
    return String(alphabetic ?? '').trim();
  }
  if (Array.isArray(value)) return value.map((v) => String(v).trim()).filter((v) => v !== '').join('\\');
  return String(value).trim();
}

function matches(vr: Vr, wanted: string, value: string): boolean {
  switch (vr) {
    case 'DA':
    case 'TM':
      return inRange(wanted, value, vr);
    case 'UI':
      return wanted.split('\\').some((uid) => uid.trim() === value);
    case 'PN':
      return wildcard(foldName(wanted)).test(foldName(value));
    default:
      return wildcard(wanted).test(value.trim());
  }
}

/** Case and accents set aside for names (LEFÈVRE, Lefevre and lefèvre are one person). */
function foldName(name: string): string {
  return name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/\^+$/, '');
}

/** * any run of characters, ? any one; everything else as itself. */
function wildcard(pattern: string): RegExp {
  const source = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 's');
}

/** DA: YYYYMMDD; TM: HHMMSS.FFFFFF, with or without the old colons, padded for comparison. */
function normalise(value: string, vr: 'DA' | 'TM'): string {
  const v = value.trim().replace(vr === 'DA' ? /\./g : /:/g, '');
  return vr === 'DA' ? v : v.padEnd(6, '0');
}

/** A single value, or a range: a-b, -b, a- (PS3.4 C.2.2.2.5). */
function inRange(wanted: string, value: string, vr: 'DA' | 'TM'): boolean {
  const v = normalise(value, vr);
  const dash = wanted.indexOf('-');
  if (dash < 0) return v === normalise(wanted, vr);
  const low = wanted.slice(0, dash).trim();
  const high = wanted.slice(dash + 1).trim();
  if (low !== '' && v < normalise(low, vr)) return false;
  // The upper bound takes its whole unit: 1600 means up to 16:00:00.999999 included.
  if (high !== '' && v > (vr === 'TM' ? `${normalise(high, vr)}.999999` : normalise(high, vr))) return false;
  return true;
}

function answer(query: NaturalDataset, stepQuery: NaturalDataset | undefined, order: ImagingOrder, options: WorklistOptions): NaturalDataset {
  const dataset: NaturalDataset = fill(query, TOP_LEVEL, CODE_SEQUENCES, order, options);
  dataset.SpecificCharacterSet = 'ISO_IR 192';
  if (STEP_SEQUENCE in query) {
    // An empty item or a zero-length sequence asks for every attribute of the item.
    const asked = stepQuery && Object.keys(stepQuery).some((k) => k !== '_vrMap')
      ? stepQuery
      : Object.fromEntries([...Object.keys(STEP), ...Object.keys(STEP_CODE_SEQUENCES)].map((k) => [k, '']));
    dataset[STEP_SEQUENCE] = [fill(asked, STEP, STEP_CODE_SEQUENCES, order, options)];
  }
  return dataset;
}

function fill(keys: NaturalDataset, attributes: Readonly<Record<string, Attribute>>, codes: Readonly<Record<string, (o: ImagingOrder) => ImagingOrder['step']['protocol']>>, order: ImagingOrder, options: WorklistOptions): NaturalDataset {
  const out: NaturalDataset = {};
  for (const keyword of Object.keys(keys)) {
    if (keyword === '_vrMap' || keyword === 'SpecificCharacterSet' || keyword === STEP_SEQUENCE) continue;
    // Private and unknown tags (dcmjs names them by their hex tag) are not returned.
    if (/^[0-9A-Fa-f]{8}$/.test(keyword)) continue;
    const attribute = attributes[keyword];
    if (attribute) {
      const values = attribute.values(order, options);
      out[keyword] = attribute.vr === 'PN' ? values.map((v) => ({ Alphabetic: v })) : values.length > 1 ? values : (values[0] ?? '');
    } else if (codes[keyword]) {
      const code = codes[keyword](order);
      out[keyword] = code ? [{ CodeValue: code.code, CodingSchemeDesignator: code.system ?? 'L', CodeMeaning: code.display ?? code.code }] : [];
    } else {
      // A key the hub has no value for is returned empty (zero length), as asked.
      out[keyword] = Array.isArray(keys[keyword]) ? [] : '';
    }
  }
  return out;
}
