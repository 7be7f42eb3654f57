/**
 * Canonical vitals: a passerelle.result/1 of kind 'vitals', whatever the input (cart JSON, FHIR,
 * PCD-01, BLE). One result per message; its observations come from toObservation.
 */
import { RESULT_SCHEMA, type Observation, type Patient, type Result, type Source } from '../model';

/** French INS assigning authorities (ANS "Référentiel INS"; see docs/vitals.md). */
export const INS_OIDS = { 'INS-NIR': '1.2.250.1.213.1.4.8', 'INS-NIA': '1.2.250.1.213.1.4.9' } as const;
export const INS_AUTHORITY_NAMES = { 'INS-NIR': 'ASIP-SANTE-INS-NIR', 'INS-NIA': 'ASIP-SANTE-INS-NIA' } as const;

/** The order code of a vitals result in the v2.5 LOINC form: the vital signs panel. */
export const VITAL_SIGNS_PANEL = { code: '85353-1', system: 'LN', display: 'Vital signs panel' };

export interface VitalsContext {
  site: string;
  /** The cart or gateway: the <source> level of the result's topic. */
  deviceId: string;
  deviceClass: 'cart' | 'ble-gateway' | 'device-gateway';
  protocol: string;
  receivedAt: Date;
  rawSha256?: string;
}

export interface VitalsParts {
  id: string;
  source?: Omit<Source, 'site' | 'deviceClass' | 'deviceId' | 'protocol'>;
  patient?: Patient;
  encounter?: { id?: string; location?: string };
  observations: Observation[];
}

export function vitalsResult(parts: VitalsParts, context: VitalsContext): Result {
  const times = parts.observations.map((o) => o.observedAt).filter((t): t is string => t !== undefined);
  const latest = times.reduce<string | undefined>((a, t) => (a === undefined || Date.parse(t) > Date.parse(a) ? t : a), undefined);
  const result: Result = {
    schema: RESULT_SCHEMA,
    id: parts.id,
    kind: 'vitals',
    status: 'final',
    source: { site: context.site, deviceClass: context.deviceClass, deviceId: context.deviceId, ...parts.source, protocol: context.protocol },
    observations: parts.observations,
    order: { fillerNumber: parts.id, code: VITAL_SIGNS_PANEL },
    times: { ...(latest ? { analysed: latest } : {}), received: context.receivedAt.toISOString() },
  };
  if (parts.patient) result.patient = parts.patient;
  if (parts.encounter && (parts.encounter.id || parts.encounter.location)) result.encounter = parts.encounter;
  if (context.rawSha256) result.raw = { sha256: context.rawSha256 };
  return result;
}

/** No identifier, no match: the result is held and listed until a person assigns it. */
export function unmatchedPatient(): Patient {
  return { identifiers: [], matched: false };
}
