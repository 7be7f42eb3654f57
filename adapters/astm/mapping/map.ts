/**
 * A parsed E1394 message + the device's profile → canonical results.
 *
 * One result per order record (O): an order is one specimen analysed for one request, which is
 * what a record files as one report. Several patients, several orders per patient: several
 * results. Every R record under the order becomes one observation, so the counts always match
 * the message. An order without results (a host order, a query answer) gives no result.
 *
 * Values are typed, never changed. The device's own code is always kept; the LOINC code is added
 * only when the profile maps it and the device's unit is the unit the mapping is for.
 */
import { createHash } from 'node:crypto';
import {
  type Observation, type ObservationStatus, type Patient, type PatientIdentifier, type Result, RESULT_SCHEMA, type ResultStatus, validateResult,
} from '../../model';
import { DEFAULT_STATUS_MAP, type DeviceProfile, type FieldRef } from '../profiles/profile';
import type { AstmMessage, OrderGroup, PatientGroup, ResultGroup } from '../records/parser';
import type { AstmRecord } from '../records/record';
import { type AstmDate, formatInstant, parseAstmDate, zoneOffsetMinutes } from './time';
import { toUcum } from './units';
import { readFlags, readRange, typeValue } from './values';

/** What the caller knows that the message does not say. */
export interface MappingContext {
  site: string;
  deviceClass: string;
  /** The site's own name for the device (also the topic level). */
  deviceId: string;
  /** When the hub received the message. */
  receivedAt: Date | string;
  journalId?: string;
  /** SHA-256 (hex) of the inbound bytes. */
  rawSha256?: string;
}

export interface SkippedOrder {
  /** `record 3 (O)`, or `patient 2` when there was no order record. */
  order: string;
  reason: string;
}

export interface MappedMessage {
  /** Patient results. */
  results: Result[];
  /** Quality-control results (H.12 Q, O.12 Q, or a control specimen type): never for a patient record. */
  controls: Result[];
  skipped: SkippedOrder[];
  /** What was tolerated or left unmapped; positions and codes, never patient data. */
  warnings: string[];
}

const ORDER_STATUS: Readonly<Record<string, ObservationStatus>> = { F: 'F', P: 'P', C: 'C', X: 'X', I: 'I' };

export function mapMessage(message: AstmMessage, profile: DeviceProfile, context: MappingContext): MappedMessage {
  const out: MappedMessage = { results: [], controls: [], skipped: [], warnings: [...message.warnings] };
  const processingId = message.header.get(12).trim();
  const received = toInstant(context.receivedAt, profile.timeZone);
  const source: Result['source'] = {
    site: context.site,
    deviceClass: context.deviceClass,
    deviceId: context.deviceId,
    manufacturer: profile.manufacturer,
    model: profile.model,
    protocol: 'astm',
  };
  const serial = profile.sender.serial ? message.header.get(5, profile.sender.serial).trim() : '';
  const version = profile.sender.version ? message.header.get(5, profile.sender.version).trim() : '';
  if (serial) source.serial = serial;
  if (version) source.softwareVersion = version;

  message.patients.forEach((patientGroup, patientIndex) => {
    for (const order of patientGroup.orders) {
      const label = order.record?.label ?? `patient ${patientIndex + 1}`;
      if (profile.skipProcessingIds.includes(processingId)) {
        out.skipped.push({ order: label, reason: `processing id ${processingId} (training or debugging)` });
        continue;
      }
      if (order.results.length === 0) {
        out.skipped.push({ order: label, reason: 'no result records' });
        continue;
      }
      try {
        const result = mapOrder(message, patientGroup, order, profile, source, received, context, out.warnings);
        const control = processingId !== '' && profile.qualityControl.processingIds.includes(processingId)
          || includesTrimmed(profile.qualityControl.actionCodes, order.record?.get(12))
          || includesTrimmed(profile.qualityControl.specimenTypes, order.record?.get(16));
        (control ? out.controls : out.results).push(result);
      } catch (err) {
        // One order the model refuses must not cost the other orders of the message.
        out.skipped.push({ order: label, reason: (err as Error).message });
      }
    }
  });
  return out;
}

function mapOrder(
  message: AstmMessage, patientGroup: PatientGroup, order: OrderGroup, profile: DeviceProfile, source: Result['source'],
  received: string, context: MappingContext, warnings: string[],
): Result {
  const d = message.delimiters;
  const o = order.record;
  const inherited = [...commentTexts(order.comments, message), ...commentTexts(patientGroup.comments, message)];
  const observations = order.results.map((group) => mapObservation(message, group, o, inherited, profile, warnings));

  const patient = mapPatient(patientGroup.record, profile, warnings);
  const specimenId = o ? firstNonEmpty(o, profile.specimenId) : undefined;
  const collected = o ? instant(o.get(8), profile, warnings, o.label, 'O.8') : undefined;
  const specimenType = o?.get(16).trim();
  const priority = ({ S: 'stat', A: 'urgent', R: 'routine' } as const)[o?.get(6).trim() as 'S' | 'A' | 'R'];
  const ordered = o ? instant(o.get(7), profile, warnings, o.label, 'O.7') : undefined;
  const analysed = latest(observations.map((obs) => obs.observedAt));

  const result: Result = {
    schema: RESULT_SCHEMA,
    id: resultId(context.deviceId, specimenId, patient?.identifiers ?? [], order, d),
    kind: 'biology',
    status: resultStatus(observations.map((obs) => obs.status)),
    source,
    ...(patient ? { patient } : {}),
    ...(specimenId || collected || specimenType ? {
      specimen: {
        ...(specimenId ? { id: specimenId } : {}),
        ...(specimenType ? { type: { code: specimenType } } : {}),
        ...(collected ? { collectedAt: collected } : {}),
      },
    } : {}),
    ...(priority ? { order: { priority } } : {}),
    observations,
    times: {
      ...(ordered ? { ordered } : {}),
      ...(collected ? { collected } : {}),
      ...(analysed ? { analysed } : {}),
      received,
    },
    ...(context.journalId || context.rawSha256 ? {
      raw: { ...(context.journalId ? { journalId: context.journalId } : {}), ...(context.rawSha256 ? { sha256: context.rawSha256 } : {}) },
    } : {}),
  };
  return validateResult(result);
}

function mapObservation(
  message: AstmMessage, group: ResultGroup, o: AstmRecord | undefined, inherited: string[], profile: DeviceProfile, warnings: string[],
): Observation {
  const d = message.delimiters;
  const r = group.record;
  const deviceCode = testCode(r, profile) || r.text(3, d).trim() || 'unknown';
  const name = profile.testCode.nameComponent ? r.get(3, profile.testCode.nameComponent).trim() : '';

  const rawValue = valueText(r, profile, d);
  const typed = typeValue(rawValue, profile.decimalComma);
  const unitText = r.text(5, d).trim();
  const mapping = profile.tests[deviceCode];
  const ucum = unitText === '' ? undefined
    : mapping?.deviceUnits?.includes(unitText) ? mapping.unit : toUcum(unitText, profile.units);

  let code: Observation['code'];
  let unmapped = true;
  if (mapping?.loinc) {
    if (mapping.unit && unitText !== '' && ucum !== mapping.unit) {
      warnings.push(`${r.label}: test ${deviceCode} sent in a unit other than ${mapping.unit}; left unmapped`);
    } else {
      code = { code: mapping.loinc, system: 'LN', ...(mapping.display ? { display: mapping.display } : {}) };
      unmapped = false;
    }
  }
  const range = readRange(r.get(6), profile.decimalComma);
  const { flags, other } = readFlags(r.field(7).flat());
  const observedAt = instant(r.get(13), profile, warnings, r.label, 'R.13') ?? instant(r.get(12), profile, warnings, r.label, 'R.12');
  const operator = r.get(11).trim();
  const equipment = r.get(14).trim();
  const comments = [...(other.length > 0 ? [`device flags: ${other.join(' ')}`] : []), ...commentTexts(group.comments, message), ...inherited];

  const observation: Observation = {
    ...(code ? { code } : {}),
    deviceCode: { code: deviceCode, ...(profile.codeSystem ? { system: profile.codeSystem } : {}), ...(name ? { display: name } : {}) },
    valueType: typed.valueType,
    ...(typed.value !== undefined ? { value: typed.value } : {}),
    ...(unitText !== '' ? { unit: ucum ? { code: ucum, system: 'UCUM', display: unitText } : { code: unitText } } : {}),
    ...(range ? { referenceRange: range } : {}),
    ...(flags.length > 0 ? { flags } : {}),
    status: observationStatus(r, o, profile),
    ...(observedAt ? { observedAt } : {}),
    ...(operator ? { operator: { id: operator } } : {}),
    ...(equipment ? { equipmentId: equipment } : {}),
    ...(unmapped ? { unmapped } : {}),
    ...(comments.length > 0 ? { comment: comments.join('\n') } : {}),
  };
  return observation;
}

/** The profile's components of R.3, the non-empty ones joined (`^^^^WBC^1` → `WBC`; GeneXpert: `MTB-RIF^Xpert^rpoB1^Ct`). */
function testCode(r: AstmRecord, profile: DeviceProfile): string {
  return profile.testCode.components.map((c) => r.get(3, c).trim()).filter((p) => p !== '').join(profile.testCode.separator);
}

function valueText(r: AstmRecord, profile: DeviceProfile, d: AstmMessage['delimiters']): string {
  const choice = profile.value.component;
  if (choice === 'all') return r.text(4, d);
  if (choice === 'first-non-empty') return r.components(4).find((c) => c.trim() !== '') ?? '';
  return r.get(4, choice);
}

function observationStatus(r: AstmRecord, o: AstmRecord | undefined, profile: DeviceProfile): ObservationStatus {
  const letter = r.get(9).trim();
  if (letter !== '') return profile.status[letter] ?? DEFAULT_STATUS_MAP[letter] ?? 'P';
  // No status on the result: the order's report type (O.26) says whether the order is final.
  const report = o?.get(26).trim() ?? '';
  return ORDER_STATUS[report] ?? profile.statusWhenAbsent;
}

/** Final only when every observation is; cancelled when none could be done. */
export function resultStatus(statuses: ObservationStatus[]): ResultStatus {
  if (statuses.every((s) => s === 'X')) return 'cancelled';
  if (statuses.some((s) => s === 'P' || s === 'I' || s === 'R')) return 'preliminary';
  if (statuses.some((s) => s === 'C')) return 'corrected';
  return 'final';
}

function mapPatient(p: AstmRecord | undefined, profile: DeviceProfile, warnings: string[]): Patient | undefined {
  if (!p) return undefined;
  const identifiers: PatientIdentifier[] = [];
  for (const ref of profile.patient.identifiers) {
    const value = p.get(ref.field, ref.component ?? 1, ref.repeat ?? 1).trim();
    if (value === '' || identifiers.some((i) => i.value === value)) continue;
    identifiers.push({ value, ...(ref.type ? { type: ref.type } : {}), ...(ref.authority ? { authority: ref.authority } : {}) });
  }
  const patient: Patient = identifiers.length > 0 ? { identifiers, matched: true, matchedBy: 'device' } : { identifiers, matched: false };
  const layout = profile.patient.name;
  if (layout) {
    const family = p.get(layout.field, layout.family).trim();
    if (family) {
      const given = layout.given.map((c) => p.get(layout.field, c).trim()).filter((g) => g !== '');
      const prefix = layout.prefix ? p.get(layout.field, layout.prefix).trim() : '';
      patient.name = { family, ...(given.length > 0 ? { given } : {}), ...(prefix ? { prefix } : {}) };
    }
  }
  if (profile.patient.birthDate) {
    const text = p.get(profile.patient.birthDate.field, profile.patient.birthDate.component ?? 1).trim();
    const date = text ? parseAstmDate(text, profile.timeZone, profile.dateFormat) : undefined;
    if (date?.kind === 'date') patient.birthDate = date.date;
    // Some devices send a birth date with a time of day: the day is what it means.
    else if (date?.kind === 'instant') patient.birthDate = date.iso.slice(0, 10);
    else if (text) warnings.push(`${p.label}: birth date unreadable`);
  }
  if (profile.patient.sex) {
    const sex = p.get(profile.patient.sex.field, profile.patient.sex.component ?? 1).trim().toUpperCase();
    if (sex === 'M' || sex === 'F' || sex === 'U') patient.sex = sex;
  }
  // No identifier and nothing else: no patient at all (a control, an anonymous sample).
  if (identifiers.length === 0 && !patient.name && !patient.birthDate && (!patient.sex || patient.sex === 'U')) return undefined;
  return patient;
}

function firstNonEmpty(record: AstmRecord, refs: FieldRef[]): string | undefined {
  for (const ref of refs) {
    const value = record.get(ref.field, ref.component ?? 1, ref.repeat ?? 1).trim();
    if (value !== '') return value;
  }
  return undefined;
}

function commentTexts(comments: AstmRecord[], message: AstmMessage): string[] {
  return comments.map((c) => c.text(4, message.delimiters).trim()).filter((t) => t !== '');
}

function instant(text: string, profile: DeviceProfile, warnings: string[], label: string, field: string): string | undefined {
  if (text.trim() === '') return undefined;
  const date: AstmDate | undefined = parseAstmDate(text, profile.timeZone, profile.dateFormat);
  if (date?.kind === 'instant') return date.iso;
  warnings.push(`${label}: ${field} is not a date-time`);
  return undefined;
}

function latest(instants: Array<string | undefined>): string | undefined {
  let best: string | undefined;
  let bestMs = -Infinity;
  for (const i of instants) {
    if (!i) continue;
    const ms = Date.parse(i);
    if (ms > bestMs) {
      best = i;
      bestMs = ms;
    }
  }
  return best;
}

function includesTrimmed(list: string[], value: string | undefined): boolean {
  const v = value?.trim() ?? '';
  return v !== '' && list.includes(v);
}

/** The hub's reception time, written in the site's zone like the device's times. */
function toInstant(value: Date | string, timeZone: string): string {
  const ms = (typeof value === 'string' ? new Date(value) : value).getTime();
  if (!Number.isFinite(ms)) throw new RangeError('receivedAt is not a valid date');
  return formatInstant(ms, zoneOffsetMinutes(ms, timeZone));
}

/**
 * Stable id from content: the device, the specimen, the patient ids and, per observation, the
 * test, value, unit, status and time as written. A replayed message gives the same id (so the
 * destinations keep it once); a correction (another value or status) gives a new one. The
 * header's date is left out: a device resending a result stamps a new one.
 */
function resultId(deviceId: string, specimenId: string | undefined, ids: PatientIdentifier[], order: OrderGroup, d: AstmMessage['delimiters']): string {
  const content = {
    deviceId,
    specimenId: specimenId ?? '',
    patient: ids.map((i) => i.value),
    order: order.record ? [order.record.text(2, d), order.record.text(5, d)] : [],
    observations: order.results.map(({ record: r }) => [3, 4, 5, 9, 12, 13].map((n) => r.text(n, d))),
  };
  return `astm-${createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 40)}`;
}
