/**
 * OBS.R01 (patient observations) and OBS.R02 (QC and other non-patient observations).
 *
 * A message holds one or more services (SVC: one test run, with its role, time, operator,
 * specimen and reagents). A patient service holds a patient (PT) and its observations (OBS); a
 * QC service holds the control material (CTC) and its observations. SVC.role_cd says which:
 * OBS is a patient observation; LQC (liquid QC), EQC, CAL, PRF… are not. Elements this file does
 * not read stay in `element`.
 */
import { Poct1MessageError } from './errors';
import { messageElement } from './hdr';
import { toRfc3339 } from './time';
import { child, childrenNamed, element, valueElement, valueOf, type XmlElement } from './xml';

export type ObservationMessageType = 'OBS.R01' | 'OBS.R02';

/** SVC.role_cd of a patient observation. Anything else is QC or another non-patient run. */
export const PATIENT_ROLE = 'OBS';

export type ServiceCategory = 'patient' | 'qc';

/** A coded value: V, with SN (coding system), SV (its version) and DN (display name). */
export interface Coded {
  value: string;
  system?: string;
  systemVersion?: string;
  display?: string;
}

/** A quantity: V and U (units). NULL (a null flavour such as NI) when the device has no value. */
export interface Quantity {
  value?: string;
  units?: string;
  nullFlavor?: string;
}

export interface PoctObservation {
  /** OBS.observation_id. */
  id: Coded;
  /** OBS.value. */
  value?: Quantity;
  /** OBS.qualitative_value, for results that are not numbers. */
  qualitativeValue?: Coded;
  /** OBS.method_cd: M measured, C calculated, I entered by hand. */
  method?: string;
  /** OBS.status_cd. */
  status?: string;
  /** OBS.interpretation_cd: N, L, H, LL, HH, <, >, A (HL7 table 0078). */
  interpretation?: string;
  /** OBS.normal_lo-hi_limit as written (`[4.0;6.0]` or `4.0-6.0`) with its units. */
  normalRange?: Quantity;
  criticalRange?: Quantity;
  /** NTE.text values inside the observation. */
  notes?: string[];
  element?: XmlElement;
}

export interface Lot {
  name?: string;
  lotNumber?: string;
  expirationDate?: string;
}

export interface ControlMaterial extends Lot {
  /** CTC.level_cd: the QC level (1–4). */
  level?: string;
}

export interface PoctPatient {
  id?: string;
  location?: string;
  birthDate?: string;
  gender?: string;
}

export interface PoctSpecimen {
  id?: string;
  type?: Coded;
  collectionTime?: string;
}

export interface PoctService {
  /** SVC.role_cd as sent (undefined when absent). */
  role?: string;
  /** patient: goes to the record; qc: never does (OBS.R02, or a role other than OBS). */
  category: ServiceCategory;
  /** SVC.observation_dttm as sent: the time of the result (not the header's). */
  observationTime: string;
  statusCd?: string;
  reasonCd?: string;
  patient?: PoctPatient;
  control?: ControlMaterial;
  observations: PoctObservation[];
  /** OPR.operator_id (operator^supervisor when a supervisor overrode). */
  operatorId?: string;
  specimen?: PoctSpecimen;
  reagents: Lot[];
  element?: XmlElement;
}

export interface ObservationMessage {
  messageType: ObservationMessageType;
  services: PoctService[];
}

/** Reads OBS.R01 / OBS.R02. Throws Poct1MessageError naming the element at fault, never its value. */
export function readObs(root: XmlElement): ObservationMessage {
  if (root.name !== 'OBS.R01' && root.name !== 'OBS.R02') throw new Poct1MessageError(`<${root.name}> is not an observation message`);
  const messageType = root.name;
  const svcs = childrenNamed(root, 'SVC');
  if (svcs.length === 0) throw new Poct1MessageError(`${messageType} has no SVC`);
  return { messageType, services: svcs.map((svc, i) => readService(messageType, svc, `SVC ${i + 1}`)) };
}

function readService(messageType: ObservationMessageType, svc: XmlElement, where: string): PoctService {
  const role = valueOf(svc, 'SVC.role_cd') || undefined;
  const observationTime = valueOf(svc, 'SVC.observation_dttm');
  if (observationTime === undefined) throw new Poct1MessageError(`${where}: SVC.observation_dttm is missing`);
  if (toRfc3339(observationTime, 'UTC') === undefined) throw new Poct1MessageError(`${where}: SVC.observation_dttm is not an ISO 8601 date/time`);
  const pt = child(svc, 'PT');
  const ctc = child(svc, 'CTC');
  // Observations sit in PT (patients), in CTC or directly in SVC (QC): take them in document order.
  const obsElements: XmlElement[] = [];
  for (const c of svc.children) {
    if (c.name === 'OBS') obsElements.push(c);
    else if (c.name === 'PT' || c.name === 'CTC') obsElements.push(...childrenNamed(c, 'OBS'));
  }
  if (obsElements.length === 0) throw new Poct1MessageError(`${where} has no OBS`);
  const observations = obsElements.map((obs, j) => readObservation(obs, `${where} OBS ${j + 1}`));
  const opr = child(svc, 'OPR');
  const spc = child(svc, 'SPC');
  return {
    role,
    // OBS.R02 is never a patient result, whatever its role says; in OBS.R01 the role decides.
    category: messageType === 'OBS.R01' && (role === undefined || role === PATIENT_ROLE) ? 'patient' : 'qc',
    observationTime,
    statusCd: valueOf(svc, 'SVC.status_cd'),
    reasonCd: valueOf(svc, 'SVC.reason_cd'),
    patient: pt && {
      id: nonEmpty(valueOf(pt, 'PT.patient_id')),
      location: valueOf(pt, 'PT.location'),
      birthDate: valueOf(pt, 'PT.birth_date'),
      gender: valueOf(pt, 'PT.gender_cd'),
    },
    control: ctc && {
      name: valueOf(ctc, 'CTC.name'),
      lotNumber: valueOf(ctc, 'CTC.lot_number'),
      expirationDate: valueOf(ctc, 'CTC.expiration_date'),
      level: valueOf(ctc, 'CTC.level_cd'),
    },
    observations,
    operatorId: nonEmpty(valueOf(opr, 'OPR.operator_id')),
    specimen: spc && {
      id: nonEmpty(valueOf(spc, 'SPC.specimen_id')),
      type: coded(child(spc, 'SPC.type_cd')),
      collectionTime: valueOf(spc, 'SPC.specimen_dttm'),
    },
    reagents: childrenNamed(svc, 'RGT').map((rgt) => ({
      name: nonEmpty(valueOf(rgt, 'RGT.name')),
      lotNumber: valueOf(rgt, 'RGT.lot_number'),
      expirationDate: valueOf(rgt, 'RGT.expiration_date'),
    })),
    element: svc,
  };
}

function readObservation(obs: XmlElement, where: string): PoctObservation {
  const id = coded(child(obs, 'OBS.observation_id'));
  if (!id) throw new Poct1MessageError(`${where}: OBS.observation_id is missing`);
  const notes = childrenNamed(obs, 'NTE').map((nte) => valueOf(nte, 'NTE.text')).filter((t): t is string => t !== undefined);
  return {
    id,
    value: quantity(child(obs, 'OBS.value')),
    qualitativeValue: coded(child(obs, 'OBS.qualitative_value')),
    method: valueOf(obs, 'OBS.method_cd'),
    status: valueOf(obs, 'OBS.status_cd'),
    interpretation: nonEmpty(valueOf(obs, 'OBS.interpretation_cd')),
    normalRange: quantity(child(obs, 'OBS.normal_lo-hi_limit')),
    criticalRange: quantity(child(obs, 'OBS.critical_lo-hi_limit')),
    notes: notes.length > 0 ? notes : undefined,
    element: obs,
  };
}

function coded(el: XmlElement | undefined): Coded | undefined {
  const value = nonEmpty(el?.attributes.V);
  if (!el || value === undefined) return undefined;
  return { value, system: nonEmpty(el.attributes.SN), systemVersion: nonEmpty(el.attributes.SV), display: nonEmpty(el.attributes.DN) };
}

function quantity(el: XmlElement | undefined): Quantity | undefined {
  if (!el) return undefined;
  return { value: el.attributes.V, units: nonEmpty(el.attributes.U), nullFlavor: nonEmpty(el.attributes.NULL) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

// ---- writing (the simulated device) ----

export type ServiceInput = Omit<PoctService, 'category' | 'element'>;

export function buildObs(controlId: string, creationTime: string, messageType: ObservationMessageType, services: ServiceInput[]): XmlElement {
  return messageElement(messageType, controlId, creationTime, services.map(serviceElement));
}

function serviceElement(svc: ServiceInput): XmlElement {
  const observations = svc.observations.map(observationElement);
  const holder = svc.patient
    ? element('PT', {}, [
      valueElement('PT.patient_id', svc.patient.id),
      valueElement('PT.location', svc.patient.location),
      valueElement('PT.birth_date', svc.patient.birthDate),
      valueElement('PT.gender_cd', svc.patient.gender),
      ...observations,
    ])
    : svc.control
      ? element('CTC', {}, [
        valueElement('CTC.name', svc.control.name),
        valueElement('CTC.lot_number', svc.control.lotNumber),
        valueElement('CTC.expiration_date', svc.control.expirationDate),
        valueElement('CTC.level_cd', svc.control.level),
        ...observations,
      ])
      : undefined;
  return element('SVC', {}, [
    valueElement('SVC.role_cd', svc.role),
    valueElement('SVC.observation_dttm', svc.observationTime),
    valueElement('SVC.status_cd', svc.statusCd),
    valueElement('SVC.reason_cd', svc.reasonCd),
    ...(holder ? [holder] : observations),
    svc.operatorId === undefined ? undefined : element('OPR', {}, [valueElement('OPR.operator_id', svc.operatorId)]),
    svc.specimen && element('SPC', {}, [
      valueElement('SPC.specimen_id', svc.specimen.id),
      codedElement('SPC.type_cd', svc.specimen.type),
      valueElement('SPC.specimen_dttm', svc.specimen.collectionTime),
    ]),
    ...svc.reagents.map((r) => element('RGT', {}, [
      valueElement('RGT.name', r.name),
      valueElement('RGT.lot_number', r.lotNumber),
      valueElement('RGT.expiration_date', r.expirationDate),
    ])),
  ]);
}

function observationElement(obs: Omit<PoctObservation, 'element'>): XmlElement {
  return element('OBS', {}, [
    codedElement('OBS.observation_id', obs.id),
    quantityElement('OBS.value', obs.value),
    codedElement('OBS.qualitative_value', obs.qualitativeValue),
    valueElement('OBS.method_cd', obs.method),
    valueElement('OBS.status_cd', obs.status),
    valueElement('OBS.interpretation_cd', obs.interpretation),
    quantityElement('OBS.normal_lo-hi_limit', obs.normalRange),
    quantityElement('OBS.critical_lo-hi_limit', obs.criticalRange),
    ...(obs.notes ?? []).map((text) => element('NTE', {}, [valueElement('NTE.text', text)])),
  ]);
}

function codedElement(name: string, c: Coded | undefined): XmlElement | undefined {
  return c && element(name, { V: c.value, SN: c.system, SV: c.systemVersion, DN: c.display });
}

function quantityElement(name: string, q: Quantity | undefined): XmlElement | undefined {
  return q && element(name, { V: q.value, U: q.units, NULL: q.nullFlavor });
}
