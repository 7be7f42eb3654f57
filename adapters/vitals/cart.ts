/** A cart's passerelle.vitals/1 message → canonical vitals. */
import type { Patient, PatientIdentifier } from '../model';
import type { CartMeasurement, CartVitals } from './contract';
import { eui64FromMac48, normaliseEui64 } from './eui64';
import { toObservation, type MeasurementInput } from './measurement';
import { INS_AUTHORITY_NAMES, INS_OIDS, vitalsResult, type VitalsContext } from './result';
import type { Result } from '../model';

export function cartToResult(message: CartVitals, context: Omit<VitalsContext, 'deviceClass' | 'protocol'>): Result {
  return vitalsResult(
    {
      id: message.id,
      source: { manufacturer: message.cart.manufacturer, model: message.cart.model, serial: message.cart.serial, softwareVersion: message.cart.softwareVersion },
      patient: patientOf(message.patient),
      encounter: { id: message.teleconsultation.id, location: message.teleconsultation.room },
      observations: message.measurements.map((m) => toObservation(measurementOf(m, message.operator))),
    },
    { ...context, deviceClass: 'cart', protocol: 'mqtt' },
  );
}

export function patientOf(p: CartVitals['patient']): Patient {
  const identifiers: PatientIdentifier[] = [];
  if (p.ins) identifiers.push({ value: p.ins.value, type: p.ins.type, authority: INS_OIDS[p.ins.type], authorityName: INS_AUTHORITY_NAMES[p.ins.type] });
  if (p.localId) identifiers.push({ value: p.localId.value, type: 'PI', authority: p.localId.authority });
  const patient: Patient = { identifiers, name: { family: p.family, ...(p.given ? { given: p.given } : {}) }, matched: identifiers.length > 0 };
  if (patient.matched) patient.matchedBy = 'device';
  if (p.birthName) patient.birthName = p.birthName;
  if (p.birthDate) patient.birthDate = p.birthDate;
  if (p.sex) patient.sex = p.sex;
  return patient;
}

function measurementOf(m: CartMeasurement, operator: CartVitals['operator']): MeasurementInput {
  const { bluetoothAddress, eui64, ...device } = m.device ?? {};
  const identity = (eui64 && normaliseEui64(eui64)) || (bluetoothAddress && eui64FromMac48(bluetoothAddress)) || undefined;
  return {
    quantity: m.quantity,
    code: m.code,
    value: m.value ?? undefined,
    unit: m.unit,
    time: m.time,
    device: { ...device, ...(identity ? { eui64: identity } : {}) },
    bodySite: m.bodySite,
    method: m.method,
    operator,
    warnings: m.value === null ? ['the device gave no value'] : undefined,
  };
}
