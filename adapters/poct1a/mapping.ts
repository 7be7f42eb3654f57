/**
 * POCT1-A observations → canonical results (docs/canonical-result.md): one result per service
 * (SVC), validated against the schema.
 *
 * - Times come from SVC.observation_dttm, never from HDR.creation_dttm: device header clocks have
 *   been seen years off.
 * - The patient is the device's PT.patient_id (matched by the device); a patient service without
 *   one gives a result with `matched: false`, which no destination sends to a record.
 * - QC and other non-patient services map too (the hub keeps them on their own topic) but never
 *   carry a patient: each MappedResult says which category it is.
 * - The id is a hash of site, device, role, observation time and observation codes: the same
 *   result sent again (a replay, a reconnection) gets the same id and is deduplicated downstream.
 */
import { createHash } from 'node:crypto';
import { RESULT_SCHEMA, validateResult, type AbnormalFlag, type Code, type Observation, type ObservationValue, type Patient, type Result } from '../model';
import { Poct1MessageError } from './errors';
import type { DeviceIdentity } from './hel';
import type { Coded, ObservationMessage, PoctObservation, PoctService, Quantity, ServiceCategory } from './obs';
import { toRfc3339, DEFAULT_TIME_ZONE } from './time';

/** Device code → LOINC. Key: `SN|V` (system and code as the device sends them) or just `V`. */
export type CodeMap = Record<string, { code: string; display?: string }>;

export interface MappingContext {
  site: string;
  deviceClass: string;
  /** The site's name for the device (the topic's <source> level). */
  deviceId: string;
  /** When the hub received the message (RFC 3339). */
  received: string;
  /** What the device said in its HEL. */
  device?: DeviceIdentity;
  /** For device time stamps without an offset (default Europe/Paris). */
  timeZone?: string;
  codes?: CodeMap;
  /** Units, as devices write them, that are valid UCUM besides the built-in list. */
  ucumUnits?: Iterable<string>;
  raw?: { journalId?: string; sha256?: string };
}

export interface MappedResult {
  /** patient: for the record; qc: for the QC topic, never a record. */
  category: ServiceCategory;
  /** SVC.role_cd as sent. */
  role?: string;
  result: Result;
}

/** Units that are already UCUM as point-of-care devices commonly write them (UCUM is case-sensitive). */
export const UCUM_UNITS: ReadonlySet<string> = new Set([
  '%', 'mmol/mol', 'mmol/L', 'umol/L', 'mg/dL', 'mg/L', 'g/dL', 'g/L', 'ug/L', 'ng/mL', 'ng/L', 'pg/mL', 'U/L', '[IU]/L', 'mU/L',
  'mm[Hg]', 'kPa', '[pH]', 'meq/L', 'mL/min/{1.73_m2}', 's', 'min', '{INR}', '{ratio}', 'fL', 'pg', 'L/L',
  '10*3/uL', '10*6/uL', '10*9/L', '10*12/L', 'mg/mmol', 'mg/g', 'Cel',
]);

const LOINC_SYSTEMS = new Set(['LN', 'LOINC', '2.16.840.1.113883.6.1']);
const FLAGS = new Set<AbnormalFlag>(['L', 'H', 'LL', 'HH', '<', '>', 'N', 'A', 'AA', 'U', 'D', 'B', 'W']);
/** PT.patient_id placeholders some devices send when the operator entered no patient. */
const NO_PATIENT = new Set(['UNKNOWN', 'NONE', '0']);

/** Maps every service of an OBS message; throws Poct1MessageError or InvalidResultError. */
export function toResults(message: ObservationMessage, context: MappingContext): MappedResult[] {
  return message.services.map((service, i) => ({ category: service.category, role: service.role, result: toResult(service, context, `SVC ${i + 1}`) }));
}

export function toResult(service: PoctService, context: MappingContext, where = 'SVC'): Result {
  const timeZone = context.timeZone ?? DEFAULT_TIME_ZONE;
  const analysed = toRfc3339(service.observationTime, timeZone);
  if (!analysed) throw new Poct1MessageError(`${where}: SVC.observation_dttm is not an ISO 8601 date/time`);
  const device = context.device;
  const ucum = context.ucumUnits ? new Set([...UCUM_UNITS, ...context.ucumUnits]) : UCUM_UNITS;
  const collected = service.specimen?.collectionTime !== undefined ? toRfc3339(service.specimen.collectionTime, timeZone) : undefined;
  const comment = lotComment(service);
  const result: Result = {
    schema: RESULT_SCHEMA,
    id: resultId(context, service, analysed),
    kind: 'biology',
    status: 'final',
    source: compact({
      site: context.site,
      deviceClass: context.deviceClass,
      deviceId: context.deviceId,
      manufacturer: device?.manufacturerName ?? device?.vendorId,
      model: device?.modelId,
      serial: device?.serialId,
      softwareVersion: device?.softwareVersion,
      protocol: 'poct1a',
    }),
    patient: service.category === 'patient' ? patientOf(service) : undefined,
    specimen: service.specimen && nonEmptyObject(compact({
      id: service.specimen.id,
      type: service.specimen.type && code(service.specimen.type),
      collectedAt: collected,
    })),
    observations: service.observations.map((obs) => observation(obs, { analysed, service, device, ucum, codes: context.codes, comment })),
    times: compact({ collected, analysed, received: context.received }),
    raw: context.raw && nonEmptyObject(compact(context.raw)),
  };
  return validateResult(compact(result));
}

/** The stable id of a service's result: same device, role, time and codes → same id. */
export function resultId(context: Pick<MappingContext, 'site' | 'deviceId'>, service: PoctService, analysed: string): string {
  const key = JSON.stringify([
    context.site, context.deviceId, service.role ?? '', Date.parse(analysed),
    service.observations.map((o) => [o.id.system ?? '', o.id.value]),
  ]);
  return `poct1a-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

function patientOf(service: PoctService): Patient {
  const id = service.patient?.id;
  if (id === undefined || NO_PATIENT.has(id.trim().toUpperCase())) return { identifiers: [], matched: false };
  const birth = service.patient?.birthDate?.trim().slice(0, 10);
  const gender = service.patient?.gender?.trim().toUpperCase();
  return compact({
    identifiers: [{ value: id, type: 'PI' }],
    birthDate: birth && /^\d{4}(-\d{2}(-\d{2})?)?$/.test(birth) ? birth : undefined,
    sex: gender === 'F' || gender === 'M' || gender === 'O' || gender === 'U' ? gender : undefined,
    matched: true,
    matchedBy: 'device' as const,
  });
}

interface ObservationContext {
  analysed: string;
  service: PoctService;
  device?: DeviceIdentity;
  ucum: ReadonlySet<string>;
  codes?: CodeMap;
  comment?: string;
}

function observation(obs: PoctObservation, ctx: ObservationContext): Observation {
  const deviceCode = code(obs.id);
  const loinc = standardCode(obs.id, ctx.codes);
  const { valueType, value } = typedValue(obs);
  const aborted = obs.status?.toUpperCase() === 'D'; // OBS.status_cd D: the test was aborted
  const flag = obs.interpretation?.trim().toUpperCase() as AbnormalFlag | undefined;
  const notes = [ctx.comment, ...(obs.notes ?? [])].filter((n): n is string => n !== undefined && n !== '');
  return compact({
    code: loinc,
    deviceCode,
    valueType,
    value: aborted ? undefined : value,
    unit: obs.value?.units !== undefined && value !== undefined ? unit(obs.value.units, ctx.ucum) : undefined,
    referenceRange: obs.normalRange && range(obs.normalRange),
    flags: flag && FLAGS.has(flag) ? [flag] : undefined,
    status: aborted || value === undefined ? 'X' : 'F',
    observedAt: ctx.analysed,
    method: obs.method ? { code: obs.method, system: 'POCT1' } : undefined,
    operator: ctx.service.operatorId !== undefined ? { id: ctx.service.operatorId } : undefined,
    equipmentId: ctx.device?.deviceId,
    unmapped: loinc ? undefined : true,
    comment: notes.length > 0 ? notes.join('; ') : undefined,
  });
}

function standardCode(id: Coded, codes: CodeMap | undefined): Code | undefined {
  if (id.system && LOINC_SYSTEMS.has(id.system.toUpperCase())) return compact({ code: id.value, system: 'LN', display: id.display });
  const mapped = codes?.[`${id.system ?? ''}|${id.value}`] ?? codes?.[id.value];
  return mapped && compact({ code: mapped.code, system: 'LN', display: mapped.display });
}

const NUMBER = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/;
const COMPARED = /^(<=|>=|<|>|=)\s*([+-]?(\d+([.,]\d*)?|[.,]\d+))$/;

function typedValue(obs: PoctObservation): { valueType: Observation['valueType']; value?: ObservationValue } {
  const q = obs.value;
  const text = q?.nullFlavor ? undefined : q?.value?.trim();
  if (text) {
    if (NUMBER.test(text)) return { valueType: 'NM', value: Number(text.replace(',', '.')) };
    const m = COMPARED.exec(text);
    if (m) return { valueType: 'SN', value: { comparator: m[1] as '<' | '>' | '<=' | '>=' | '=', number: Number(m[2].replace(',', '.')) } };
    return { valueType: 'ST', value: text };
  }
  const qualitative = obs.qualitativeValue;
  if (qualitative) return qualitative.system ? { valueType: 'CWE', value: code(qualitative) } : { valueType: 'ST', value: qualitative.value };
  return { valueType: q ? 'NM' : 'ST' };
}

function unit(units: string, ucum: ReadonlySet<string>): Code {
  return ucum.has(units) ? { code: units, system: 'UCUM' } : { code: units };
}

/** `[4.0;6.0]` (POCT1-A IVL), `4.0-6.0`, `<6.0`, `>4` → low/high; anything else is kept as text. */
function range(q: Quantity): { low?: number; high?: number; text?: string } | undefined {
  const text = q.value?.trim();
  if (!text) return undefined;
  const n = String.raw`[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)`;
  const num = (s: string | undefined) => (s === undefined || s === '' ? undefined : Number(s.replace(',', '.')));
  let m = new RegExp(String.raw`^[\[(]\s*(${n})?\s*;\s*(${n})?\s*[\])]$`).exec(text) ?? new RegExp(String.raw`^(${n})\s*-\s*(${n})$`).exec(text);
  if (m) return compact({ low: num(m[1]), high: num(m[2]) });
  m = new RegExp(String.raw`^(<=?|>=?)\s*(${n})$`).exec(text);
  if (m) return m[1].startsWith('<') ? { high: num(m[2]) } : { low: num(m[2]) };
  return { text };
}

function code(c: Coded): Code {
  return compact({ code: c.value, system: c.system, display: c.display });
}

/** Reagent and control lots: no field of their own in the canonical result, kept as a comment. */
function lotComment(service: PoctService): string | undefined {
  const parts: string[] = [];
  const lot = (kind: string, l: { name?: string; lotNumber?: string; expirationDate?: string; level?: string }) => {
    const bits = [l.name, l.level && `level ${l.level}`, l.lotNumber && `lot ${l.lotNumber}`, l.expirationDate && `expires ${l.expirationDate}`].filter(Boolean);
    if (bits.length > 0) parts.push(`${kind} ${bits.join(', ')}`);
  };
  if (service.control) lot('control', service.control);
  for (const r of service.reagents) lot('reagent', r);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** Drops properties whose value is undefined (the schema refuses what it does not know). */
function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out as T;
}

function nonEmptyObject<T extends object>(value: T): T | undefined {
  return Object.keys(value).length > 0 ? value : undefined;
}
