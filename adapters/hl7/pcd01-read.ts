/**
 * Reading IHE PCD-01 ORU^R01 from device gateways (the hub's MLLP input): the patient, the
 * visit, and each OBX row as written — MDC code, containment sub-id, value, unit code, time,
 * EUI-64. What the rows mean (quantities, units) is the vitals adapter's business.
 */
import type { Code, Patient } from '../model';
import type { Hl7Message, Hl7Segment } from './message';
import { patientOf } from './orders';

/** MSH-21 profile ids of PCD-01: IHE's, and the Continua/PCHA (H.812) one. Both are accepted. */
const PCD01_PROFILE_IDS = ['IHE_PCD_001', 'IHE PCD ORU-R012006'];

export interface Pcd01Row {
  subId: string;
  valueType: string;
  code: Code;
  value?: string;
  unit?: Code;
  status?: string;
  /** OBX-14 as written (HL7 DTM). */
  time?: string;
  /** OBX-18.3 when its type (OBX-18.4) is EUI-64, else OBX-18.1. */
  equipment?: string;
  bodySite?: Code;
  method?: Code;
}

export interface Pcd01Reading {
  controlId: string;
  sendingApplication: string;
  /** MSH-3.2 when MSH-3.3 says EUI-64: the gateway's own identity. */
  gatewayEui64?: string;
  patient?: Patient;
  encounter?: { id?: string; location?: string };
  /** OBR-7, the first observation time, when a row has none. */
  observedAt?: string;
  rows: Pcd01Row[];
}

/** An ORU^R01 that declares a PCD-01 profile in MSH-21, or, without one, codes its OBX-3 in MDC. */
export function isPcd01(message: Hl7Message): boolean {
  if (!message.messageType.startsWith('ORU^R01')) return false;
  const msh = message.segment('MSH')!;
  for (let r = 1; r <= msh.repetitions(21); r++) {
    if (PCD01_PROFILE_IDS.includes(text(msh.get(`21[${r}].1`)) ?? '')) return true;
  }
  return message.segments('OBX').some((obx) => text(obx.get('3.3'))?.toUpperCase() === 'MDC');
}

export function readPcd01(message: Hl7Message): Pcd01Reading {
  const msh = message.segment('MSH')!;
  const pid = message.segment('PID');
  const pv1 = message.segment('PV1');
  const patient = pid ? patientOf(pid) : undefined;
  const reading: Pcd01Reading = {
    controlId: message.controlId,
    sendingApplication: text(msh.get('3.1')) ?? '',
    rows: message.segments('OBX').map(rowOf),
  };
  if (text(msh.get('3.3'))?.toUpperCase() === 'EUI-64' && text(msh.get('3.2'))) reading.gatewayEui64 = text(msh.get('3.2'));
  // The gateway had the patient from the record (an ADT): matched by the device that sends it.
  if (patient) reading.patient = { ...patient, matchedBy: 'device' };
  const encounter = { id: text(pv1?.get('19.1')), location: text(pv1?.get('3.1')) };
  if (encounter.id || encounter.location) reading.encounter = encounter;
  const observedAt = text(message.segment('OBR')?.get('7.1'));
  if (observedAt) reading.observedAt = observedAt;
  return reading;
}

function rowOf(obx: Hl7Segment): Pcd01Row {
  const equipmentType = text(obx.get('18.4'))?.toUpperCase();
  const row: Pcd01Row = {
    subId: text(obx.get('4')) ?? '',
    valueType: text(obx.get('2')) ?? '',
    code: codeOf(obx, '3') ?? { code: '' },
  };
  const set = <K extends keyof Pcd01Row>(key: K, value: Pcd01Row[K] | undefined) => { if (value !== undefined) row[key] = value; };
  set('value', text(obx.get('5')));
  set('unit', codeOf(obx, '6'));
  set('status', text(obx.get('11')));
  set('time', text(obx.get('14.1')));
  set('equipment', equipmentType === 'EUI-64' ? text(obx.get('18.3')) ?? text(obx.get('18.1')) : text(obx.get('18.1')));
  set('method', codeOf(obx, '17'));
  set('bodySite', codeOf(obx, '20'));
  return row;
}

function codeOf(segment: Hl7Segment, field: string): Code | undefined {
  const code = text(segment.get(`${field}.1`));
  const display = text(segment.get(`${field}.2`));
  if (!code && !display) return undefined;
  const result: Code = { code: code ?? display! };
  if (display) result.display = display;
  const system = text(segment.get(`${field}.3`));
  if (system) result.system = system;
  return result;
}

function text(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
