/**
 * Reads a CR-BIO CDA document back: header (patient, INS, GP, prescriber, correction) and every
 * observation of the body with its narrative row. Written apart from the writer, on the element
 * tree saxes builds (adapters/poct1a/xml.ts), so well-formedness is checked on the way.
 */
import { parseXml, type XmlElement } from '../../poct1a/xml';
import { GpReadError } from '../errors';
import type { ReadReport, ReadResult } from '../report';
import * as F from './format-details';

export interface CdaResult extends ReadResult {
  /** The observation's templateIds. */
  templates: string[];
  codeSystem?: string;
  /** The local code kept in <translation>. */
  localCode?: string;
  valueType?: string;
  /** The narrative row the entry references, cell by cell ('' when the reference does not resolve). */
  narrative: string[];
  reference?: string;
}

export interface CdaDocument extends ReadReport {
  root: XmlElement;
  code?: string;
  title: string;
  templates: string[];
  setId?: string;
  version?: string;
  gpFunction?: string;
  results: CdaResult[];
}

export function readCdaCrBio(bytes: Buffer): CdaDocument {
  let root: XmlElement;
  try {
    root = parseXml(bytes.toString('utf8'));
  } catch (err) {
    throw new GpReadError(`not well-formed XML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (root.name !== 'ClinicalDocument' || root.attributes.xmlns !== F.NS.cda) throw new GpReadError('the root element is not an HL7 CDA ClinicalDocument');
  const role = path(root, 'recordTarget', 'patientRole');
  const person = path(role, 'patient');
  const families = all(path(person, 'name'), 'family');
  const family = (families.find((f) => f.attributes.qualifier === F.NAME_QUALIFIER.used) ?? families[0])?.text;
  const patient: ReadReport['patient'] = {};
  if (family) patient.family = family;
  const given = path(person, 'name', 'given')?.text;
  if (given) patient.given = given;
  const birth = path(person, 'birthTime')?.attributes.value;
  if (birth && /^\d{8}$/.test(birth)) patient.birthDate = `${birth.slice(0, 4)}-${birth.slice(4, 6)}-${birth.slice(6, 8)}`;
  const sex = path(person, 'administrativeGenderCode')?.attributes.code;
  if (sex) patient.sex = sex;
  const ins = all(role, 'id').find((id) => id.attributes.root === F.INS_NIR_ROOT)?.attributes.extension;
  if (ins) patient.ins = ins;

  const participants = all(root, 'participant');
  const gpParticipant = participants.find((p) => p.attributes.typeCode === F.GP_PARTICIPANT.typeCode && path(p, 'functionCode')?.attributes.code === F.GP_PARTICIPANT.functionCode);
  const prescriber = participants.find((p) => p.attributes.typeCode === F.PRESCRIBER_PARTICIPANT.typeCode);
  const doc: CdaDocument = {
    root,
    title: path(root, 'title')?.text ?? '',
    templates: all(root, 'templateId').map((t) => t.attributes.root),
    patient,
    correction: all(root, 'relatedDocument').some((r) => r.attributes.typeCode === F.REPLACES),
    results: all(path(root, 'component', 'structuredBody'), 'component').flatMap((c) => sectionResults(path(c, 'section'))),
  };
  const code = path(root, 'code')?.attributes.code;
  if (code) doc.code = code;
  const setId = path(root, 'setId')?.attributes.root;
  if (setId) doc.setId = setId;
  const version = path(root, 'versionNumber')?.attributes.value;
  if (version) doc.version = version;
  if (gpParticipant) {
    const entity = path(gpParticipant, 'associatedEntity');
    doc.gpFunction = path(gpParticipant, 'functionCode')?.attributes.code;
    doc.gp = { ...practitioner(entity, 'associatedPerson') };
    const mail = all(entity, 'telecom').map((t) => t.attributes.value ?? '').find((v) => v.startsWith('mailto:'));
    if (mail) doc.gp.mailbox = mail.slice('mailto:'.length);
  }
  if (prescriber) doc.prescriber = practitioner(path(prescriber, 'associatedEntity'), 'associatedPerson');
  return doc;
}

function practitioner(entity: XmlElement | undefined, personTag: string): { id?: string; family?: string; given?: string } {
  const out: { id?: string; family?: string; given?: string } = {};
  const id = all(entity, 'id').find((i) => i.attributes.root === F.PS_ROOT)?.attributes.extension;
  if (id) out.id = id.startsWith(F.RPPS_PREFIX) ? id.slice(F.RPPS_PREFIX.length) : id;
  const name = path(entity, personTag, 'name');
  const family = path(name, 'family')?.text;
  if (family) out.family = family;
  const given = path(name, 'given')?.text;
  if (given) out.given = given;
  return out;
}

/** Observations of a section and its sub-sections, each with its narrative row. */
function sectionResults(section: XmlElement | undefined): CdaResult[] {
  if (!section) return [];
  const rows = new Map<string, string[]>();
  for (const tr of descendants(path(section, 'text'), 'tr')) if (tr.attributes.ID) rows.set(tr.attributes.ID, all(tr, 'td').map((td) => td.text));
  const own = all(section, 'entry').flatMap((e) => descendants(e, 'observation')).map((o) => observationOf(o, rows));
  return [...own, ...all(section, 'component').flatMap((c) => sectionResults(path(c, 'section')))];
}

function observationOf(o: XmlElement, rows: Map<string, string[]>): CdaResult {
  const code = path(o, 'code');
  const translation = path(code, 'translation');
  const value = path(o, 'value');
  const reference = path(o, 'text', 'reference')?.attributes.value;
  const result: CdaResult = {
    code: code?.attributes.code ?? translation?.attributes.code ?? '',
    value: '',
    flags: all(o, 'interpretationCode').map((i) => i.attributes.code),
    templates: all(o, 'templateId').map((t) => t.attributes.root),
    narrative: reference ? rows.get(reference.replace(/^#/, '')) ?? [] : [],
  };
  const label = code?.attributes.displayName ?? translation?.attributes.displayName;
  if (label) result.label = label;
  if (code?.attributes.codeSystem) result.codeSystem = code.attributes.codeSystem;
  if (translation?.attributes.code) result.localCode = translation.attributes.code;
  if (reference) result.reference = reference;
  const status = path(o, 'statusCode')?.attributes.code;
  if (status) result.status = status;
  if (value) {
    const type = value.attributes['xsi:type'];
    result.valueType = type;
    if (type === 'PQ') {
      result.value = value.attributes.value ?? '';
      if (value.attributes.unit) result.unit = value.attributes.unit;
    } else if (type === 'IVL_PQ') {
      // A comparator result (<5): one bound, inclusive or not.
      const low = path(value, 'low');
      const high = path(value, 'high');
      const bound = high ?? low;
      const inclusive = bound?.attributes.inclusive === 'true';
      result.value = `${high ? '<' : '>'}${inclusive ? '=' : ''}${bound?.attributes.value ?? ''}`;
      if (bound?.attributes.unit) result.unit = bound.attributes.unit;
    } else if (type === 'CE' || type === 'CD') result.value = value.attributes.displayName ?? value.attributes.code ?? '';
    else result.value = value.text;
  }
  const range = path(o, 'referenceRange', 'observationRange', 'value');
  const low = path(range, 'low')?.attributes.value;
  const high = path(range, 'high')?.attributes.value;
  if (low) result.low = low;
  if (high) result.high = high;
  return result;
}

function all(parent: XmlElement | undefined, name: string): XmlElement[] {
  return parent ? parent.children.filter((c) => c.name === name) : [];
}

function path(parent: XmlElement | undefined, ...names: string[]): XmlElement | undefined {
  let at = parent;
  for (const name of names) at = at?.children.find((c) => c.name === name);
  return at;
}

function descendants(parent: XmlElement | undefined, name: string): XmlElement[] {
  if (!parent) return [];
  return parent.children.flatMap((c) => [...(c.name === name ? [c] : []), ...descendants(c, name)]);
}
