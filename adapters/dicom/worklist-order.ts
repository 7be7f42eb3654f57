/**
 * An imaging order given by hand (a technician's flow, a test before a modality goes live): a
 * small JSON object → the scheduled procedure step the worklist offers, the same ImagingOrder the
 * record's ORM^O01 / OMI^O23 give. Every error names the field to fix.
 */
import type { ImagingOrder } from '../hl7/orders';
import type { Code, Patient } from '../model/result';
import { AE_TITLE } from './endpoint';
import { isUid } from './uids';

export interface WorklistOrderInput {
  accessionNumber: string;
  patient: { id: string; authority?: string; family: string; given?: string | string[]; birthDate?: string; sex?: 'F' | 'M' | 'O' | 'U' };
  modality: string;
  /** The stations that may perform it (AE titles); absent: the node's stations for the modality. */
  stations?: string | string[];
  /** The site's wall time: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]. */
  start?: string;
  procedure?: { id?: string; code?: string; display?: string; system?: string };
  stepId?: string;
  studyInstanceUid?: string;
  placerNumber?: string;
  /** True: take the order's steps off the worklist. */
  cancelled?: boolean;
}

export class InvalidOrderError extends Error {
  constructor(field: string, expected: string) {
    super(`${field}: expected ${expected}`);
    this.name = 'InvalidOrderError';
  }
}

function text(value: unknown, field: string, max: number, required: boolean): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) throw new InvalidOrderError(field, 'a value');
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '' || value.length > max || /[\\^|~&\r\n]/.test(value)) {
    throw new InvalidOrderError(field, `text of 1 to ${max} characters without \\ ^ | ~ & or line breaks`);
  }
  return value.trim();
}

export function imagingOrderFromInput(input: unknown): ImagingOrder {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidOrderError('payload', 'an object (see the node\'s help)');
  const o = input as Record<string, unknown>;
  const accessionNumber = text(o.accessionNumber, 'accessionNumber', 16, true)!;
  const cancelled = o.cancelled === true;
  const p = (typeof o.patient === 'object' && o.patient !== null ? o.patient : {}) as Record<string, unknown>;
  // A cancellation names the accession number only: its patient is the step's already.
  const id = text(p.id, 'patient.id', 64, !cancelled);
  const authority = text(p.authority, 'patient.authority', 64, false);
  const patient: Patient = { identifiers: id ? [{ value: id, ...(authority ? { authority } : {}) }] : [], matched: true, matchedBy: 'order' };
  const family = text(p.family, 'patient.family', 64, !cancelled);
  if (family) {
    const given = (Array.isArray(p.given) ? p.given : p.given === undefined ? [] : [p.given]).map((g, i) => text(g, `patient.given[${i}]`, 64, true)!);
    patient.name = given.length > 0 ? { family, given } : { family };
  }
  if (p.birthDate !== undefined) {
    if (typeof p.birthDate !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(p.birthDate)) throw new InvalidOrderError('patient.birthDate', 'YYYY-MM-DD');
    patient.birthDate = p.birthDate;
  }
  if (p.sex !== undefined) {
    if (p.sex !== 'F' && p.sex !== 'M' && p.sex !== 'O' && p.sex !== 'U') throw new InvalidOrderError('patient.sex', 'F, M, O or U');
    patient.sex = p.sex;
  }
  const modality = text(o.modality, 'modality', 16, !cancelled)?.toUpperCase();
  if (modality && !/^[A-Z0-9_]{1,16}$/.test(modality)) throw new InvalidOrderError('modality', 'a DICOM modality such as CR, DX, US, CT, MR');
  const stations = (Array.isArray(o.stations) ? o.stations : o.stations === undefined ? [] : String(o.stations).split(/[,\s]+/)).map(String).filter((s) => s !== '');
  const badStation = stations.find((s) => !AE_TITLE.test(s));
  if (badStation !== undefined) throw new InvalidOrderError('stations', `AE titles of 1 to 16 characters ("${badStation}")`);
  const order: ImagingOrder = { control: cancelled ? 'CA' : 'NW', cancelled, accessionNumber, patient, requestedProcedure: {}, step: { stationAeTitles: stations } };
  if (modality) order.step.modality = modality;
  if (o.start !== undefined) {
    const m = typeof o.start === 'string' ? /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(o.start) : null;
    if (!m) throw new InvalidOrderError('start', 'YYYY-MM-DD or YYYY-MM-DDTHH:MM, the site\'s time');
    order.step.start = m[4] ? { date: `${m[1]}${m[2]}${m[3]}`, time: `${m[4]}${m[5]}${m[6] ?? '00'}` } : { date: `${m[1]}${m[2]}${m[3]}` };
  }
  const pr = (typeof o.procedure === 'object' && o.procedure !== null ? o.procedure : {}) as Record<string, unknown>;
  const procedureId = text(pr.id, 'procedure.id', 16, false);
  if (procedureId) order.requestedProcedure.id = procedureId;
  const code = text(pr.code, 'procedure.code', 16, false);
  if (code) {
    const procedure: Code = { code };
    const display = text(pr.display, 'procedure.display', 64, false);
    const system = text(pr.system, 'procedure.system', 16, false);
    if (display) procedure.display = display;
    if (system) procedure.system = system;
    order.requestedProcedure.code = procedure;
    order.step.protocol = procedure;
  }
  const stepId = text(o.stepId, 'stepId', 16, false);
  if (stepId) order.step.id = stepId;
  const placer = text(o.placerNumber, 'placerNumber', 64, false);
  if (placer) order.placerNumber = placer;
  if (o.studyInstanceUid !== undefined) {
    if (typeof o.studyInstanceUid !== 'string' || !isUid(o.studyInstanceUid)) throw new InvalidOrderError('studyInstanceUid', 'a UID (digits and dots, 64 at most)');
    order.studyInstanceUid = o.studyInstanceUid;
  }
  return order;
}
