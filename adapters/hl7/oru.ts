/**
 * Canonical result → ORU^R01^ORU_R01, HL7 v2.5, as French hospital records expect it
 * (IHE PAM France / Interop'Santé habits for the patient, IHE LTW-style order and results).
 *
 *   MSH  header: site time with offset, MSH-17 FRA, MSH-18 charset
 *   PID  identifiers with their authority (INS with its OID), birth name (L) and used name (D)
 *   ORC  RE + placer/filler numbers + ordering provider
 *   OBR  order code, collection time, ordering provider (RPPS), status time, result status
 *   OBX  one per observation, NTE after it for its comment
 *   SPM  the specimen (v2.5 puts it after the observations)
 *
 * PV1 only for a result that carries its visit (vitals: the teleconsultation); ORU_R01 makes it
 * optional and a point-of-care result has none to give.
 * See docs/hl7.md for each field.
 */
import type { Code, Observation, ObservationValue, Patient, PatientIdentifier, PersonName, Provider, Result, ResultStatus } from '../model';
import type { Hl7Charset } from './charset';
import { Hl7BuildError } from './errors';
import { DEFAULT_TIME_ZONE, formatDate, formatDateTime } from './time';
import { components, formattedText, message, repetitions, segment, subcomponents, type Er7, type Part } from './writer';

export interface OruOptions {
  controlId: string;
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  charset: Hl7Charset;
  /** IANA name of the site's time zone; times are written in it with their offset. */
  timeZone?: string;
  now?: Date;
  processingId?: 'P' | 'T' | 'D';
}

export const ORU_VERSION = '2.5';

/** The ORU as text: segments joined with CR, ending with CR. Encode it with encodeMessage. */
export function buildOru(result: Result, options: OruOptions): string {
  if (!options.controlId) throw new Hl7BuildError(`result ${result.id}: a control ID (MSH-10) is required`);
  if (!result.patient?.matched) {
    // The model's rule: an unmatched result must not reach a record until a person assigns it.
    throw new Hl7BuildError(`result ${result.id}: patient not matched, it cannot be sent to a record`);
  }
  const tz = options.timeZone ?? DEFAULT_TIME_ZONE;
  const at = (instant: string | undefined): string | undefined => (instant === undefined ? undefined : formatDateTime(instant, tz));
  const order = result.order ?? {};
  const orderingProvider = provider(order.orderingProvider);

  const segments = [
    segment('MSH', [
      options.sendingApplication, options.sendingFacility, options.receivingApplication, options.receivingFacility,
      formatDateTime(options.now ?? new Date(), tz), undefined, components('ORU', 'R01', 'ORU_R01'), options.controlId,
      options.processingId ?? 'P', ORU_VERSION, undefined, undefined, undefined, undefined, 'FRA', options.charset,
    ]),
    pidSegment(result.patient),
    ...(result.encounter ? [visitSegment(result.encounter)] : []),
    segment('ORC', ['RE', entity(order.placerNumber), entity(order.fillerNumber), undefined, ORDER_STATUS[result.status], ...blanks(6), orderingProvider]),
    segment('OBR', [
      '1', entity(order.placerNumber), entity(order.fillerNumber),
      coded(order.code ?? result.observations[0]?.code ?? result.observations[0]?.deviceCode),
      undefined, undefined,
      at(result.specimen?.collectedAt ?? result.times.collected ?? result.times.analysed),
      ...blanks(8),
      orderingProvider,
      ...blanks(5),
      at(result.times.analysed ?? result.times.received),
      undefined, undefined,
      RESULT_STATUS[result.status],
    ]),
  ];
  result.observations.forEach((observation, index) => {
    segments.push(observationSegment(observation, index + 1, at), ...notes(observation));
  });
  if (result.specimen) {
    const { id, type, collectedAt } = result.specimen;
    segments.push(segment('SPM', ['1', entity(id), undefined, coded(type), ...blanks(12), components(at(collectedAt))]));
  }
  return message(segments);
}

/** PID with identifiers (INS with its OID), birth and used names, birth date, sex. */
export function pidSegment(patient: Patient): string {
  return segment('PID', [
    '1', undefined,
    repetitions(patient.identifiers.map(identifier)),
    undefined,
    repetitions(names(patient.name, patient.birthName)),
    undefined,
    patient.birthDate === undefined ? undefined : formatDate(patient.birthDate),
    patient.sex,
  ]);
}

/** PV1 for a result that belongs to a visit or teleconsultation: outpatient, PV1-3 the room, PV1-19 its number. */
export function visitSegment(encounter: NonNullable<Result['encounter']>): string {
  return segment('PV1', ['1', 'O', components(encounter.location), ...blanks(15), components(encounter.id)]);
}

/** NTE after an OBX: its comment, then what the hub noticed (out of bounds, unknown unit...). */
export function notes(o: Observation): string[] {
  const texts = [...(o.comment ? [o.comment] : []), ...(o.warnings ?? [])];
  return texts.map((text, i) => segment('NTE', [String(i + 1), 'L', formattedText(text)]));
}

const RESULT_STATUS: Record<ResultStatus, string> = { final: 'F', preliminary: 'P', corrected: 'C', cancelled: 'X' };
// ORC-5, HL7 table 0038.
const ORDER_STATUS: Record<ResultStatus, string> = { final: 'CM', corrected: 'CM', preliminary: 'IP', cancelled: 'CA' };

function observationSegment(o: Observation, setId: number, at: (instant: string | undefined) => string | undefined): string {
  // The LOINC code first, the device's own code (for vitals, the MDC code) kept as the alternate triplet (CWE-4..6).
  const alternate = o.mdc?.code ?? o.deviceCode;
  const code = o.code
    ? components(o.code.code, o.code.display, system(o.code), alternate.code, alternate.display, system(alternate))
    : coded(o.deviceCode);
  return segment('OBX', [
    String(setId), o.valueType, code, undefined,
    value(o.value, o.valueType),
    coded(o.unit),
    referenceRange(o.referenceRange),
    repetitions(o.flags ?? []),
    undefined, undefined,
    o.status,
    undefined, undefined,
    at(o.observedAt),
    undefined,
    o.operator ? components(o.operator.id, o.operator.name) : undefined,
    coded(o.method),
    entity(o.equipmentId),
  ]);
}

function value(v: ObservationValue | undefined, valueType: Observation['valueType']): Part {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return valueType === 'SN' ? components(undefined, decimal(v)) : decimal(v);
  if (typeof v === 'string') return valueType === 'TX' ? formattedText(v) : v;
  if ('comparator' in v) return components(v.comparator, decimal(v.number));
  return coded(v);
}

function referenceRange(range: Observation['referenceRange']): string | undefined {
  if (!range) return undefined;
  if (range.text !== undefined && range.text !== '') return range.text;
  const { low, high } = range;
  if (low !== undefined && high !== undefined) return `${decimal(low)}-${decimal(high)}`;
  if (low !== undefined) return `>${decimal(low)}`;
  if (high !== undefined) return `<${decimal(high)}`;
  return undefined;
}

/** CX: value^^^authority^type. An OID authority is written name&OID&ISO, a namespace as itself. */
function identifier(id: PatientIdentifier): Er7 {
  return components(id.value, undefined, undefined, authority(id.authority, id.authorityName), identifierType(id.type));
}

// The canonical types follow the French FHIR profiles (INS-NIR, INS-NIA...); PAM France writes
// every INS matricule with CX-5 'INS', the OID in CX-4 telling NIR from NIA and test identities.
function identifierType(type: string | undefined): string | undefined {
  return type !== undefined && /^INS(-|$)/.test(type) ? 'INS' : type;
}

function authority(value: string | undefined, name: string | undefined): Part {
  if (value === undefined) return name;
  const oid = value.replace(/^urn:oid:/, '');
  return OID.test(oid) ? subcomponents(name, oid, 'ISO') : value;
}

const OID = /^[0-2](\.(0|[1-9]\d*))+$/;

/**
 * PID-5 as PAM France writes it: the birth name with type L (legal), then the used name with
 * type D; a single L repetition when the birth name is not known. Further given names go in
 * XPN-3, space-separated.
 */
function names(name: PersonName | undefined, birthName: string | undefined): Er7[] {
  const given = name?.given ?? [];
  const first = given[0];
  const further = given.length > 1 ? given.slice(1).join(' ') : undefined;
  if (birthName === undefined) {
    return name ? [components(name.family, first, further, undefined, name.prefix, undefined, 'L')] : [];
  }
  const birth = components(birthName, first, further, undefined, undefined, undefined, 'L');
  return name ? [birth, components(name.family, first, further, undefined, name.prefix, undefined, 'D')] : [birth];
}

/**
 * XCN: id^family^given^further^^prefix^^^authority^^^^type. RPPS numbers keep 'RPPS' as both the
 * assigning authority and the identifier type code, as French records read them.
 */
function provider(p: Provider | undefined): Er7 | undefined {
  if (!p) return undefined;
  const given = p.name?.given ?? [];
  return components(
    p.id, p.name?.family, given[0], given.length > 1 ? given.slice(1).join(' ') : undefined, undefined, p.name?.prefix,
    undefined, undefined, authority(p.authority, undefined), undefined, undefined, undefined,
    p.authority === 'RPPS' ? 'RPPS' : undefined,
  );
}

export function coded(code: Code | undefined): Er7 | undefined {
  return code ? components(code.code, code.display, system(code)) : undefined;
}

/** EI with only its identifier: order numbers, specimen and equipment IDs. */
function entity(id: string | undefined): Er7 | undefined {
  return id === undefined ? undefined : components(id);
}

const SYSTEM_NAMES: Record<string, string> = {
  LOINC: 'LN', 'http://loinc.org': 'LN',
  'http://unitsofmeasure.org': 'UCUM',
  SNOMED: 'SCT', 'SNOMED CT': 'SCT', 'http://snomed.info/sct': 'SCT',
};

// Coding system names of HL7 table 0396 (LN, UCUM, SCT, 99xxx for local codes).
function system(code: Code): string | undefined {
  return code.system === undefined ? undefined : SYSTEM_NAMES[code.system] ?? code.system;
}

/** A number as an HL7 NM: decimal point, never an exponent (1e-7 → 0.0000001). */
export function decimal(n: number): string {
  if (!Number.isFinite(n)) throw new Hl7BuildError('a numeric value of the result is not a finite number');
  const text = String(n);
  const e = text.indexOf('e');
  if (e < 0) return text;
  const exponent = Number(text.slice(e + 1));
  const sign = text.startsWith('-') ? '-' : '';
  const mantissa = text.slice(sign.length, e);
  const point = mantissa.indexOf('.');
  const digits = mantissa.replace('.', '');
  const position = (point < 0 ? mantissa.length : point) + exponent;
  if (position <= 0) return `${sign}0.${'0'.repeat(-position)}${digits}`;
  if (position >= digits.length) return `${sign}${digits}${'0'.repeat(position - digits.length)}`;
  return `${sign}${digits.slice(0, position)}.${digits.slice(position)}`;
}

export function blanks(count: number): undefined[] {
  return new Array<undefined>(count).fill(undefined);
}
