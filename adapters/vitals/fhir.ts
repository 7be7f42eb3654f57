/**
 * FHIR R4 vital signs → canonical vitals: an Observation, or a Bundle of Observations with their
 * Patient and Devices (what a cart or a PHD gateway posts). Checked against what the vital-signs
 * profile requires (status, category vital-signs, code, subject, effective time with its zone, a
 * value, a component or a dataAbsentReason); every problem is named with its path.
 */
import type { Code, Patient, PatientIdentifier } from '../model';
import { FUTURE_TOLERANCE_MS, InvalidVitalsError } from './contract';
import { normaliseEui64 } from './eui64';
import { toObservation, type MeasurementInput } from './measurement';
import { INS_AUTHORITY_NAMES, INS_OIDS, unmatchedPatient, vitalsResult, type VitalsContext } from './result';
import { MDC_SYSTEM_URI } from './coding';
import type { Result } from '../model';

type Json = Record<string, unknown>;

const LOINC_URI = 'http://loinc.org';
const UCUM_URI = 'http://unitsofmeasure.org';
const SNOMED_URI = 'http://snomed.info/sct';
/** The IEEE EUI-64 identifier system of the HL7 Personal Health Device IG. */
export const EUI64_SYSTEM = 'urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680';
const ACCEPTED_STATUS = new Set(['final', 'amended', 'corrected', 'preliminary']);
const ZONED = /(Z|[+-]\d{2}:\d{2})$/;

export function fhirToResult(payload: Buffer | string, context: Omit<VitalsContext, 'deviceClass' | 'protocol'> & { now?: Date }): Result {
  let resource: unknown;
  try {
    resource = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    throw new InvalidVitalsError([`not JSON: ${(err as Error).message}`]);
  }
  const problems: string[] = [];
  if (!isObject(resource)) throw new InvalidVitalsError(['a FHIR resource is a JSON object']);
  let observations: Array<[string, Json]>;
  const byReference = new Map<string, Json>();
  if (resource.resourceType === 'Bundle') {
    const entries = resource.entry;
    if (!Array.isArray(entries) || entries.length === 0) throw new InvalidVitalsError(['Bundle.entry: a Bundle of vital signs has entries']);
    observations = [];
    entries.forEach((entry: unknown, i) => {
      const r = isObject(entry) ? entry.resource : undefined;
      if (!isObject(r) || typeof r.resourceType !== 'string') return problems.push(`Bundle.entry[${i}].resource is missing or has no resourceType`);
      if (isObject(entry) && typeof entry.fullUrl === 'string') byReference.set(entry.fullUrl, r);
      if (typeof r.id === 'string') byReference.set(`${r.resourceType}/${r.id}`, r);
      if (r.resourceType === 'Observation') observations.push([`Bundle.entry[${i}].resource`, r]);
      return undefined;
    });
    if (observations.length === 0) problems.push('Bundle.entry: no Observation');
  } else if (resource.resourceType === 'Observation') {
    observations = [['Observation', resource]];
  } else {
    throw new InvalidVitalsError([`resourceType ${String(resource.resourceType)}: an Observation or a Bundle is expected`]);
  }
  const latest = (context.now ?? new Date()).getTime() + FUTURE_TOLERANCE_MS;
  const measurements: MeasurementInput[] = [];
  let patient: Patient | undefined;
  let encounter: string | undefined;
  for (const [path, o] of observations) {
    const before = problems.length;
    if (!ACCEPTED_STATUS.has(String(o.status))) problems.push(`${path}.status ${String(o.status)}: one of ${[...ACCEPTED_STATUS].join(', ')} expected`);
    const categories = Array.isArray(o.category) ? o.category : [];
    if (!categories.some((c) => codings(c).some((k) => k.code === 'vital-signs'))) problems.push(`${path}.category: vital-signs is required`);
    const code = pickCoding(codings(o.code));
    if (!code) problems.push(`${path}.code.coding: a coding with system and code is required`);
    const time = typeof o.effectiveDateTime === 'string' ? o.effectiveDateTime : isObject(o.effectivePeriod) ? o.effectivePeriod.start : undefined;
    if (typeof time !== 'string' || Number.isNaN(Date.parse(time))) problems.push(`${path}.effective[x]: a date-time is required`);
    else if (!ZONED.test(time)) problems.push(`${path}.effective[x] ${time} has no time zone`);
    else if (Date.parse(time) > latest) problems.push(`${path}.effective[x] ${time} is in the future`);
    const subject = isObject(o.subject) ? o.subject : undefined;
    if (!subject) problems.push(`${path}.subject is required`);
    const components = Array.isArray(o.component) ? (o.component as unknown[]) : [];
    if (o.valueQuantity === undefined && components.length === 0 && o.dataAbsentReason === undefined) {
      problems.push(`${path}: valueQuantity, component or dataAbsentReason is required`);
    }
    if (problems.length > before) continue;
    patient ??= subject ? patientOf(subject, byReference) : undefined;
    encounter ??= isObject(o.encounter) ? referenceId(o.encounter) : undefined;
    const common = { time: time as string, device: deviceOf(o.device, byReference), bodySite: codeOf(o.bodySite), method: codeOf(o.method), status: o.status === 'preliminary' ? ('P' as const) : ('F' as const) };
    if (o.valueQuantity !== undefined || (components.length === 0 && o.dataAbsentReason !== undefined)) {
      const value = quantityOf(o.valueQuantity, `${path}.valueQuantity`, problems);
      measurements.push({ ...common, code: code!, ...value });
    }
    components.forEach((c, i) => {
      const where = `${path}.component[${i}]`;
      const cCode = isObject(c) ? pickCoding(codings(c.code)) : undefined;
      if (!cCode) return problems.push(`${where}.code.coding: a coding with system and code is required`);
      const value = quantityOf((c as Json).valueQuantity, `${where}.valueQuantity`, problems);
      measurements.push({ ...common, code: cCode, ...value });
      return undefined;
    });
  }
  if (problems.length > 0) throw new InvalidVitalsError(problems);
  const id = typeof resource.id === 'string' && /^[A-Za-z0-9.-]{1,64}$/.test(resource.id) ? `fhir.${resource.id}` : `fhir.sha256-${(context.rawSha256 ?? 'none').slice(0, 32)}`;
  return vitalsResult(
    { id, patient: patient ?? unmatchedPatient(), encounter: encounter ? { id: encounter } : undefined, observations: measurements.map(toObservation) },
    { ...context, deviceClass: 'cart', protocol: 'fhir' },
  );
}

function quantityOf(q: unknown, path: string, problems: string[]): { value?: number; unit?: string; warnings?: string[] } {
  if (q === undefined) return { warnings: ['no value (dataAbsentReason)'] };
  if (!isObject(q) || typeof q.value !== 'number' || !Number.isFinite(q.value)) {
    problems.push(`${path}.value must be a number`);
    return {};
  }
  const unit = typeof q.code === 'string' && (q.system === UCUM_URI || q.system === undefined) ? q.code : typeof q.unit === 'string' ? q.unit : undefined;
  return { value: q.value, unit };
}

function codings(concept: unknown): Array<{ system?: string; code?: string; display?: string }> {
  return isObject(concept) && Array.isArray(concept.coding) ? (concept.coding as unknown[]).filter(isObject) as Array<{ system?: string; code?: string; display?: string }> : [];
}

/** MDC first (it tells the oximeter's pulse from the cuff's), then LOINC, then the first coding. */
function pickCoding(list: Array<{ system?: string; code?: string; display?: string }>): Code | undefined {
  const usable = list.filter((c) => typeof c.code === 'string' && c.code !== '' && typeof c.system === 'string');
  const chosen = usable.find((c) => c.system === MDC_SYSTEM_URI) ?? usable.find((c) => c.system === LOINC_URI) ?? usable[0];
  return chosen ? { code: chosen.code!, system: systemName(chosen.system!), ...(chosen.display ? { display: chosen.display } : {}) } : undefined;
}

function codeOf(concept: unknown): Code | undefined {
  const c = codings(concept).find((k) => typeof k.code === 'string');
  return c ? { code: c.code!, system: systemName(c.system ?? ''), ...(c.display ? { display: c.display } : {}) } : undefined;
}

function systemName(uri: string): string {
  return uri === MDC_SYSTEM_URI ? 'MDC' : uri === LOINC_URI ? 'LN' : uri === SNOMED_URI ? 'SCT' : uri === UCUM_URI ? 'UCUM' : uri;
}

function referenceId(ref: Json): string | undefined {
  if (isObject(ref.identifier) && typeof ref.identifier.value === 'string') return ref.identifier.value;
  return typeof ref.reference === 'string' ? ref.reference.replace(/^.*\//, '') : undefined;
}

function patientOf(subject: Json, byReference: Map<string, Json>): Patient {
  const resource = typeof subject.reference === 'string' ? byReference.get(subject.reference) : undefined;
  const identifiers: PatientIdentifier[] = [];
  const list = resource && Array.isArray(resource.identifier) ? resource.identifier : isObject(subject.identifier) ? [subject.identifier] : [];
  for (const id of list as unknown[]) {
    if (!isObject(id) || typeof id.value !== 'string' || id.value === '') continue;
    const system = typeof id.system === 'string' ? id.system : undefined;
    const ins = (Object.keys(INS_OIDS) as Array<keyof typeof INS_OIDS>).find((t) => system === `urn:oid:${INS_OIDS[t]}`);
    if (ins) identifiers.push({ value: id.value, type: ins, authority: INS_OIDS[ins], authorityName: INS_AUTHORITY_NAMES[ins] });
    else identifiers.push({ value: id.value, type: 'PI', ...(system ? { authority: system.replace(/^urn:oid:/, '') } : {}) });
  }
  if (identifiers.length === 0) return unmatchedPatient();
  const patient: Patient = { identifiers, matched: true, matchedBy: 'device' };
  const name = resource && Array.isArray(resource.name) && isObject(resource.name[0]) ? resource.name[0] : undefined;
  if (name && typeof name.family === 'string') patient.name = { family: name.family, ...(Array.isArray(name.given) ? { given: name.given.map(String) } : {}) };
  if (resource && typeof resource.birthDate === 'string' && /^\d{4}(-\d{2}(-\d{2})?)?$/.test(resource.birthDate)) patient.birthDate = resource.birthDate;
  const sex = resource ? ({ female: 'F', male: 'M', other: 'O', unknown: 'U' } as const)[String(resource.gender) as 'female'] : undefined;
  if (sex) patient.sex = sex;
  return patient;
}

function deviceOf(ref: unknown, byReference: Map<string, Json>): MeasurementInput['device'] {
  const device = isObject(ref) && typeof ref.reference === 'string' ? byReference.get(ref.reference) : undefined;
  if (!device) return undefined;
  const identifiers = Array.isArray(device.identifier) ? (device.identifier as unknown[]).filter(isObject) : [];
  const eui = identifiers.find((i) => i.system === EUI64_SYSTEM);
  const eui64 = eui && typeof eui.value === 'string' ? normaliseEui64(eui.value) : undefined;
  return {
    ...(typeof device.manufacturer === 'string' ? { manufacturer: device.manufacturer } : {}),
    ...(typeof device.modelNumber === 'string' ? { model: device.modelNumber } : {}),
    ...(typeof device.serialNumber === 'string' ? { serial: device.serialNumber } : {}),
    ...(eui64 ? { eui64 } : {}),
  };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
