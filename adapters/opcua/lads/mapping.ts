/**
 * A LADS result, as read from the instrument (a snapshot: what is journaled as the raw input),
 * → canonical results (passerelle.result/1, kind biology). One result per sample; observations
 * from the VariableSet through the instrument's mapping table; the specimen id from the samples,
 * so the patient is found through the order, exactly like an analyser's ASTM result.
 */
import { createHash } from 'node:crypto';
import { resultStatus } from '../../astm/mapping/map';
import { toUcum } from '../../astm/mapping/units';
import { formatInstant } from '../../astm/mapping/time';
import { zoneOffsetMinutes } from '../../common/time-zone';
import { RESULT_SCHEMA, validateResult, type Observation, type Result } from '../../model';
import { typeObservationValue, type PlainDataValue } from '../values';
import type { LadsProfile, SampleField } from './profile';

export const SNAPSHOT_SCHEMA = 'passerelle.lads-result/1';

export interface LadsSample {
  sampleId?: string;
  containerId?: string;
  position?: string;
  customData?: string;
}

/** One variable of a result's VariableSet: its path below the VariableSet (browse names), value and unit. */
export interface LadsVariable extends PlainDataValue {
  path: string[];
  nodeId: string;
  /** EngineeringUnits: the display name (the unit's symbol) and the UNECE code when given. */
  unit?: { displayName: string; unitId?: number };
}

/** A result file, kept by reference: the instrument keeps the bytes (FileType node, URL). */
export interface LadsFile {
  nodeId: string;
  name: string;
  mimeType?: string;
  url?: string;
  /** The FileType node to read it through OPC UA file transfer. */
  fileNodeId?: string;
}

export interface LadsResultSnapshot {
  schema: typeof SNAPSHOT_SCHEMA;
  endpointUrl: string;
  readAt: string;
  device: { nodeId: string; name: string; manufacturer?: string; model?: string; serial?: string; softwareVersion?: string };
  functionalUnit: { nodeId: string; name: string };
  result: {
    nodeId: string;
    name: string;
    samples: LadsSample[];
    started?: string;
    stopped?: string;
    supervisoryJobId?: string;
    supervisoryTaskId?: string;
    deviceProgramRunId?: string;
    user?: string;
  };
  variables: LadsVariable[];
  files: LadsFile[];
}

export interface LadsMappingContext {
  site: string;
  deviceId: string;
  deviceClass: string;
  receivedAt: Date;
  timeZone: string;
  rawSha256?: string;
  journalId?: string;
}

export interface MappedLadsResult {
  results: Result[];
  /** What was left unmapped or could not be attributed; names and codes, never patient data. */
  warnings: string[];
}

function specimenOf(sample: LadsSample, fields: SampleField[]): string | undefined {
  for (const field of fields) {
    const value = sample[field]?.trim();
    if (value) return value;
  }
  return undefined;
}

function instant(iso: string | undefined, timeZone: string): string | undefined {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : formatInstant(ms, zoneOffsetMinutes(ms, timeZone));
}

function observation(variable: LadsVariable, path: string[], profile: LadsProfile, context: LadsMappingContext, fallbackTime: string | undefined, warnings: string[]): Observation {
  const code = path.join('/');
  const name = path[path.length - 1];
  const mapping = profile.variables[code] ?? profile.variables[name];
  const typed = typeObservationValue(variable, profile.decimalComma);
  const unitText = variable.unit?.displayName.trim() ?? '';
  const ucum = unitText === '' ? undefined : mapping?.deviceUnits?.includes(unitText) ? mapping.unit : toUcum(unitText, profile.units);
  let loinc: Observation['code'];
  if (mapping?.loinc) {
    if (mapping.unit && unitText !== '' && ucum !== mapping.unit) warnings.push(`variable ${code} in ${unitText}, not ${mapping.unit}: left unmapped`);
    else loinc = { code: mapping.loinc, system: 'LN', ...(mapping.display ? { display: mapping.display } : {}) };
  }
  const observedAt = instant(variable.sourceTimestamp, context.timeZone) ?? fallbackTime;
  return {
    ...(loinc ? { code: loinc } : {}),
    deviceCode: { code, system: profile.codeSystem, display: name },
    valueType: typed.valueType,
    ...(typed.value !== undefined ? { value: typed.value } : {}),
    ...(unitText !== '' ? { unit: ucum ? { code: ucum, system: 'UCUM', display: unitText } : { code: unitText } } : {}),
    status: typed.status,
    ...(observedAt ? { observedAt } : {}),
    equipmentId: context.deviceId,
    ...(loinc ? {} : { unmapped: true }),
    ...(typed.comment ? { comment: typed.comment } : {}),
  };
}

/** Stable across re-reads (a reconnect, a restart): the same result read twice has the same id. */
function resultId(snapshot: LadsResultSnapshot, context: LadsMappingContext, sampleKey: string): string {
  const r = snapshot.result;
  const hash = createHash('sha256').update([context.deviceId, r.nodeId, r.deviceProgramRunId ?? '', r.started ?? '', r.stopped ?? '', sampleKey].join('\u0000')).digest('hex');
  return `lads-${hash.slice(0, 40)}`;
}

/** The variables of one sample: the top-level ones (shared by all samples) and those in a set named after the sample. */
function variablesFor(snapshot: LadsResultSnapshot, sample: LadsSample | undefined, several: boolean): Array<{ variable: LadsVariable; path: string[] }> {
  if (!several) return snapshot.variables.map((variable) => ({ variable, path: variable.path }));
  const names = new Set([sample?.sampleId, sample?.containerId, sample?.position].filter((n): n is string => !!n));
  return snapshot.variables.flatMap((variable) => {
    if (variable.path.length === 1) return [{ variable, path: variable.path }];
    return names.has(variable.path[0]) ? [{ variable, path: variable.path.slice(1) }] : [];
  });
}

export function mapLadsResult(snapshot: LadsResultSnapshot, profile: LadsProfile, context: LadsMappingContext): MappedLadsResult {
  const warnings: string[] = [];
  const r = snapshot.result;
  const samples: Array<LadsSample | undefined> = r.samples.length > 0 ? r.samples : [undefined];
  const several = samples.length > 1;
  if (r.samples.length === 0) warnings.push(`result ${r.name}: no sample, so no specimen id to find the patient by`);
  if (several) {
    const known = new Set(r.samples.flatMap((s) => [s.sampleId, s.containerId, s.position]).filter(Boolean));
    const stray = snapshot.variables.filter((v) => v.path.length > 1 && !known.has(v.path[0])).map((v) => v.path.join('/'));
    if (stray.length > 0) warnings.push(`result ${r.name}: ${stray.length} variable(s) in a set named after no sample (${stray.slice(0, 5).join(', ')}): not attributed`);
  }
  const analysed = instant(r.stopped, context.timeZone);
  const results: Result[] = [];
  samples.forEach((sample, index) => {
    const specimenId = sample ? specimenOf(sample, profile.specimenId) : undefined;
    if (sample && !specimenId) warnings.push(`result ${r.name}: sample ${index + 1} has no ${profile.specimenId.join(' or ')}`);
    const observations = variablesFor(snapshot, sample, several).map(({ variable, path }) => observation(variable, path, profile, context, analysed, warnings));
    if (observations.length === 0) {
      warnings.push(`result ${r.name}: no variable for sample ${index + 1}`);
      return;
    }
    const result: Result = {
      schema: RESULT_SCHEMA,
      id: resultId(snapshot, context, specimenId ?? String(index)),
      kind: 'biology',
      status: resultStatus(observations.map((o) => o.status)),
      source: {
        site: context.site,
        deviceClass: context.deviceClass,
        deviceId: context.deviceId,
        ...(snapshot.device.manufacturer ? { manufacturer: snapshot.device.manufacturer } : {}),
        ...(snapshot.device.model ? { model: snapshot.device.model } : {}),
        ...(snapshot.device.serial ? { serial: snapshot.device.serial } : {}),
        ...(snapshot.device.softwareVersion ? { softwareVersion: snapshot.device.softwareVersion } : {}),
        protocol: 'opcua-lads',
      },
      ...(specimenId ? { specimen: { id: specimenId } } : {}),
      ...(r.supervisoryJobId || r.deviceProgramRunId ? {
        order: { ...(r.supervisoryJobId ? { placerNumber: r.supervisoryJobId } : {}), ...(r.deviceProgramRunId ? { fillerNumber: r.deviceProgramRunId } : {}) },
      } : {}),
      observations,
      times: { ...(analysed ? { analysed } : {}), received: formatInstant(context.receivedAt.getTime(), zoneOffsetMinutes(context.receivedAt.getTime(), context.timeZone)) },
      ...(context.rawSha256 || context.journalId ? { raw: { ...(context.journalId ? { journalId: context.journalId } : {}), ...(context.rawSha256 ? { sha256: context.rawSha256 } : {}) } } : {}),
    };
    results.push(validateResult(result));
  });
  return { results, warnings };
}
