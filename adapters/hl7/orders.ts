/**
 * Orders from the record: OML^O21 (laboratory) and ORM^O01 (general, radiology) → one order
 * record per ORC/OBR, or per specimen (SPM) of an OBR in an OML, carrying the patient of the
 * message's PID. The hub indexes them so a result that comes back with only a specimen id
 * (what most analysers send) finds its patient. See docs/journal-and-delivery.md (orders).
 * Imaging orders (ORM^O01 in IHE radiology's form, OMI^O23) also give the scheduled procedure
 * steps of the modality worklist: extractImagingOrders, see docs/dicom.md (worklist).
 */
import type { Code, Patient, PatientIdentifier, PersonName } from '../model';
import type { Hl7Message, Hl7Segment } from './message';

/** The French INS (NIR) assigning authority. */
export const INS_NIR_OID = '1.2.250.1.213.1.4.8';

/** Where the specimen id of an order is read, in order of preference. */
export type SpecimenSource = 'spm' | 'filler' | 'placer';

export interface OrderExtractOptions {
  /** Default: SPM-2 first, then OBR-3 (filler order number). */
  specimenFrom?: SpecimenSource[];
}

export interface ExtractedOrder {
  specimenId?: string;
  placerNumber?: string;
  fillerNumber?: string;
  accessionNumber?: string;
  patient: Patient;
  orderedAt?: string;
  orderCode?: Code;
}

const DEFAULT_SPECIMEN_FROM: SpecimenSource[] = ['spm', 'filler'];

/** OML^O21 and ORM^O01 carry orders; any other message type carries none. */
export function isOrderMessage(message: Hl7Message): boolean {
  const type = message.messageType.split('^').slice(0, 2).join('^');
  return type === 'OML^O21' || type === 'ORM^O01';
}

/**
 * The orders a message carries, each with its specimen id and the message's patient (matched
 * by order). Orders without a specimen id or placer number, or a message whose PID has no
 * identifier, give nothing: there is nothing to match a result on, or no one to match it to.
 */
export function extractOrders(message: Hl7Message, options: OrderExtractOptions = {}): ExtractedOrder[] {
  if (!isOrderMessage(message)) return [];
  const pid = message.segment('PID');
  const patient = pid && patientOf(pid);
  if (!patient) return [];
  const specimenFrom = options.specimenFrom ?? DEFAULT_SPECIMEN_FROM;
  const isOml = message.messageType.startsWith('OML');

  // Walk the segments: an ORC opens an order, its OBR says what is ordered, SPMs after the OBR
  // (OML) are its specimens. An ORC without an OBR is an order control only.
  interface Group { orc?: Hl7Segment; obr?: Hl7Segment; spms: Hl7Segment[] }
  const groups: Group[] = [];
  let current: Group | undefined;
  for (const segment of message.segments()) {
    if (segment.name === 'ORC') {
      current = { orc: segment, spms: [] };
      groups.push(current);
    } else if (segment.name === 'OBR') {
      if (!current || current.obr) {
        current = { orc: current?.orc, spms: [] }; // another OBR of the same ORC
        groups.push(current);
      }
      current.obr = segment;
    } else if (segment.name === 'SPM' && current?.obr) {
      current.spms.push(segment);
    }
  }

  const orders: ExtractedOrder[] = [];
  for (const group of groups) {
    if (!group.obr) continue;
    const base = orderOf(group.orc, group.obr, patient);
    const spms = isOml && group.spms.length > 0 ? group.spms : [undefined];
    for (const spm of spms) {
      const spmId = spm && (text(spm.get('2.1.1')) ?? text(spm.get('2.2.1')));
      const order: ExtractedOrder = { ...base };
      for (const source of specimenFrom) {
        const id = source === 'spm' ? spmId : source === 'filler' ? base.fillerNumber : base.placerNumber;
        if (id) {
          order.specimenId = id;
          break;
        }
      }
      if (order.specimenId === undefined) delete order.specimenId;
      if (order.specimenId || order.placerNumber) orders.push(order);
    }
  }
  return orders;
}

function orderOf(orc: Hl7Segment | undefined, obr: Hl7Segment, patient: Patient): ExtractedOrder {
  const order: ExtractedOrder = { patient };
  const placer = text(obr.get('2.1')) ?? text(orc?.get('2.1'));
  const filler = text(obr.get('3.1')) ?? text(orc?.get('3.1'));
  if (placer) order.placerNumber = placer;
  if (filler) order.fillerNumber = filler;
  // OBR-18 (placer field 1) carries the accession number in IHE radiology (ORM).
  const accession = text(obr.get('18.1'));
  if (accession) order.accessionNumber = accession;
  const code = text(obr.get('4.1'));
  if (code) {
    order.orderCode = { code };
    const display = text(obr.get('4.2'));
    const system = text(obr.get('4.3'));
    if (display) order.orderCode.display = display;
    if (system) order.orderCode.system = system;
  }
  // ORC-9 (transaction time), else OBR-6 (requested time), else OBR-7 (observation time).
  const orderedAt = hl7Instant(text(orc?.get('9.1'))) ?? hl7Instant(text(obr.get('6.1'))) ?? hl7Instant(text(obr.get('7.1')));
  if (orderedAt) order.orderedAt = orderedAt;
  return order;
}

/** PID → canonical Patient (matched by order), or undefined when PID-3 holds no identifier. */
export function patientOf(pid: Hl7Segment): Patient | undefined {
  const identifiers: PatientIdentifier[] = [];
  for (let r = 1; r <= pid.repetitions(3); r++) {
    const value = text(pid.get(`3[${r}].1`));
    if (!value) continue;
    const identifier: PatientIdentifier = { value };
    const namespace = text(pid.get(`3[${r}].4.1`));
    const universal = text(pid.get(`3[${r}].4.2`));
    const typeCode = text(pid.get(`3[${r}].5`));
    const oid = universal ?? (namespace && /^[0-2](\.\d+)+$/.test(namespace) ? namespace : undefined);
    if (oid === INS_NIR_OID) {
      identifier.type = 'INS-NIR';
      identifier.authority = `urn:oid:${oid}`;
      if (namespace && namespace !== oid) identifier.authorityName = namespace;
    } else {
      if (oid) {
        identifier.authority = `urn:oid:${oid}`;
        if (namespace && namespace !== oid) identifier.authorityName = namespace;
      } else if (namespace) {
        identifier.authority = namespace;
      }
      if (typeCode) identifier.type = typeCode;
    }
    identifiers.push(identifier);
  }
  if (identifiers.length === 0) return undefined;
  const patient: Patient = { identifiers, matched: true, matchedBy: 'order' };
  const { name, birthName } = namesOf(pid);
  if (name) patient.name = name;
  if (birthName) patient.birthName = birthName;
  const birthDate = hl7Date(text(pid.get('7.1')));
  if (birthDate) patient.birthDate = birthDate;
  const sex = text(pid.get('8'));
  if (sex === 'F' || sex === 'M' || sex === 'O' || sex === 'U') patient.sex = sex;
  return patient;
}

/** PID-5: the used name (type D) if given, else the legal (L) or first one; L gives the birth name. */
function namesOf(pid: Hl7Segment): { name?: PersonName; birthName?: string } {
  const names: Array<{ type?: string; name: PersonName }> = [];
  for (let r = 1; r <= pid.repetitions(5); r++) {
    const family = text(pid.get(`5[${r}].1.1`));
    if (!family) continue;
    const name: PersonName = { family };
    const given = [text(pid.get(`5[${r}].2`)), ...(text(pid.get(`5[${r}].3`))?.split(' ') ?? [])].filter((g): g is string => !!g);
    if (given.length > 0) name.given = given;
    const prefix = text(pid.get(`5[${r}].5`));
    if (prefix) name.prefix = prefix;
    names.push({ type: text(pid.get(`5[${r}].7`)), name });
  }
  if (names.length === 0) return {};
  const used = names.find((n) => n.type === 'D');
  const legal = names.find((n) => n.type === 'L');
  const result: { name?: PersonName; birthName?: string } = { name: (used ?? legal ?? names[0]).name };
  if (used && legal) result.birthName = legal.name.family;
  return result;
}

function text(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** HL7 DT (YYYY[MM[DD]]) → YYYY, YYYY-MM or YYYY-MM-DD. */
function hl7Date(value: string | undefined): string | undefined {
  const m = value && /^(\d{4})(\d{2})?(\d{2})?/.exec(value);
  if (!m) return undefined;
  return [m[1], m[2], m[3]].filter((p) => p).join('-');
}

/**
 * HL7 DTM → RFC 3339. With its offset when it has one; without, read as UTC (the time is an
 * indication only: matching never depends on it).
 */
function hl7Instant(value: string | undefined): string | undefined {
  const m = value && /^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$/.exec(value);
  if (!m) return undefined;
  const offset = m[7] ? `${m[7].slice(0, 3)}:${m[7].slice(3)}` : 'Z';
  return `${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}${offset}`;
}

/** ORC-1 order controls that take an order off the worklist (HL7 table 0119). */
const CANCELLING_CONTROLS = new Set(['CA', 'OC', 'CR', 'DC', 'OD', 'DR']);

/** One scheduled procedure step of an imaging order, as the worklist offers it to the modalities. */
export interface ImagingOrder {
  /** ORC-1: NW (new), XO (changed), SC (status), CA/OC/CR/DC/OD/DR (cancelled, discontinued). */
  control: string;
  cancelled: boolean;
  /** IPC-1 (OMI), OBR-18 (ORM, IHE); else the filler order number, which radiology uses as such. */
  accessionNumber: string;
  placerNumber?: string;
  fillerNumber?: string;
  patient: Patient;
  requestedProcedure: { id?: string; code?: Code };
  /** IPC-3 (OMI), ZDS-1 (ORM, IHE). */
  studyInstanceUid?: string;
  step: {
    /** IPC-4 (OMI), OBR-20 (ORM). */
    id?: string;
    /** IPC-5 (OMI), OBR-24 (ORM): the DICOM modality, e.g. CT, US, CR, DX, MR (absent only in a cancellation). */
    modality?: string;
    /** IPC-9 (repeating); ORM carries none: the site's worklist assigns stations by modality. */
    stationAeTitles: string[];
    stationName?: string;
    location?: string;
    /** Wall time of the site (DICOM DA + TM): TQ1-7, else OBR-27.4 / ORC-7.4, OBR-36, ORC-15, ORC-9. */
    start?: { date: string; time?: string };
    /** IPC-6 (scheduled protocol), else the requested procedure. */
    protocol?: Code;
  };
  referringPhysician?: PersonName;
  orderedAt?: string;
}

/** ORM^O01 and OMI^O23 carry imaging orders. */
export function isImagingOrderMessage(message: Hl7Message): boolean {
  const type = message.messageType.split('^').slice(0, 2).join('^');
  return type === 'OMI^O23' || type === 'ORM^O01';
}

/**
 * The imaging orders of an ORM^O01 or OMI^O23: one per IPC (OMI) or per ORC/OBR (ORM). An order
 * needs an accession number (or filler number) and a modality to be a procedure a modality can
 * perform; ORM orders without a modality (OBR-24) are other orders, left to extractOrders.
 */
export function extractImagingOrders(message: Hl7Message): ImagingOrder[] {
  if (!isImagingOrderMessage(message)) return [];
  const pid = message.segment('PID');
  const patient = pid && patientOf(pid);
  if (!patient) return [];
  const zds = message.segment('ZDS');
  const isOrm = message.messageType.startsWith('ORM');
  const orders: ImagingOrder[] = [];
  let orc: Hl7Segment | undefined;
  let tq1: Hl7Segment | undefined;
  let obr: Hl7Segment | undefined;
  let added = false;
  const add = (ipc: Hl7Segment | undefined) => {
    const order = imagingOrderOf(orc, tq1, obr, ipc, zds, patient);
    if (order) orders.push(order);
    added = true;
  };
  // An ORM order is its OBR; an OMI step its IPC. A cancellation may carry neither.
  const close = () => {
    if (!added && ((isOrm && obr) || CANCELLING_CONTROLS.has((text(orc?.get('1')) ?? '').toUpperCase()))) add(undefined);
  };
  for (const segment of message.segments()) {
    if (segment.name === 'ORC') {
      close();
      orc = segment;
      tq1 = undefined;
      obr = undefined;
      added = false;
    } else if (segment.name === 'TQ1') {
      tq1 ??= segment;
    } else if (segment.name === 'OBR') {
      if (isOrm && obr) close();
      obr = segment;
      added = false;
    } else if (segment.name === 'IPC') {
      add(segment);
    }
  }
  close();
  return orders;
}

function imagingOrderOf(orc: Hl7Segment | undefined, tq1: Hl7Segment | undefined, obr: Hl7Segment | undefined, ipc: Hl7Segment | undefined, zds: Hl7Segment | undefined, patient: Patient): ImagingOrder | undefined {
  const control = (text(orc?.get('1')) ?? 'NW').toUpperCase();
  const placerNumber = text(obr?.get('2.1')) ?? text(orc?.get('2.1'));
  const fillerNumber = text(obr?.get('3.1')) ?? text(orc?.get('3.1'));
  const accessionNumber = text(ipc?.get('1.1')) ?? text(obr?.get('18.1')) ?? fillerNumber;
  const modality = text(ipc?.get('5.1')) ?? text(obr?.get('24.1'));
  const cancelled = CANCELLING_CONTROLS.has(control);
  // A cancellation may name the order only (ORC without OBR): it still takes its steps off.
  if (!accessionNumber || (!modality && !cancelled)) return undefined;
  const start = dicomWallTime(text(tq1?.get('7.1')) ?? text(obr?.get('27.4.1')) ?? text(orc?.get('7.4.1')) ?? text(obr?.get('36.1')) ?? text(orc?.get('15.1')) ?? text(orc?.get('9.1')));
  const procedureCode = codeAt(obr, '44') ?? codeAt(obr, '4');
  const stationAeTitles: string[] = [];
  for (let r = 1; ipc && r <= ipc.repetitions(9); r++) {
    const title = text(ipc.get(`9[${r}].1`));
    if (title) stationAeTitles.push(title);
  }
  const order: ImagingOrder = {
    control,
    cancelled,
    accessionNumber,
    patient,
    requestedProcedure: {},
    step: { stationAeTitles },
  };
  if (modality) order.step.modality = modality.toUpperCase();
  if (placerNumber) order.placerNumber = placerNumber;
  if (fillerNumber) order.fillerNumber = fillerNumber;
  const requestedId = text(ipc?.get('2.1')) ?? text(obr?.get('19.1'));
  if (requestedId) order.requestedProcedure.id = requestedId;
  if (procedureCode) order.requestedProcedure.code = procedureCode;
  const studyUid = text(ipc?.get('3.1')) ?? text(zds?.get('1.1'));
  if (studyUid && /^[0-9]+(\.[0-9]+)*$/.test(studyUid) && studyUid.length <= 64) order.studyInstanceUid = studyUid;
  const stepId = text(ipc?.get('4.1')) ?? text(obr?.get('20.1'));
  if (stepId) order.step.id = stepId;
  const stationName = text(ipc?.get('7.1'));
  if (stationName) order.step.stationName = stationName;
  const location = text(ipc?.get('8.1'));
  if (location) order.step.location = location;
  if (start) order.step.start = start;
  const protocol = codeAt(ipc, '6') ?? procedureCode;
  if (protocol) order.step.protocol = protocol;
  // OBR-16 (XCN): id^family^given.
  const referring = text(obr?.get('16.2'));
  if (referring) {
    const given = text(obr?.get('16.3'));
    order.referringPhysician = given ? { family: referring, given: [given] } : { family: referring };
  }
  const orderedAt = hl7Instant(text(orc?.get('9.1'))) ?? hl7Instant(text(obr?.get('6.1')));
  if (orderedAt) order.orderedAt = orderedAt;
  return order;
}

function codeAt(segment: Hl7Segment | undefined, field: string): Code | undefined {
  const code = text(segment?.get(`${field}.1`));
  if (!code) return undefined;
  const result: Code = { code };
  const display = text(segment?.get(`${field}.2`));
  const system = text(segment?.get(`${field}.3`));
  if (display) result.display = display;
  if (system) result.system = system;
  return result;
}

/**
 * HL7 DTM → DICOM DA and TM as written, the site's wall time (the modality compares them with
 * its own clock; an offset, when given, is dropped: orders are written in the site's zone).
 */
function dicomWallTime(value: string | undefined): { date: string; time?: string } | undefined {
  const m = value && /^(\d{8})(\d{2,6})?/.exec(value);
  if (!m) return undefined;
  return m[2] ? { date: m[1], time: m[2].padEnd(6, '0') } : { date: m[1] };
}
