/**
 * An instrument's mapping table, as data (like the ASTM device profiles): which LADS variable is
 * which LOINC code in which UCUM unit, and where the specimen id is in the result's samples.
 * Shipped tables are the JSON files beside this one; a site's own is loaded from a file. Every
 * problem is listed at once, with where it is.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isValidLoinc } from '../../astm/profiles/loinc';
import generic from './profiles/lads-generic.json';
import simulator from './profiles/passerelle-simulator.json';

export interface VariableMapping {
  loinc?: string;
  display?: string;
  /** The UCUM unit the LOINC code means; a value in another unit is left unmapped. */
  unit?: string;
  /** The instrument's spellings of that unit (EngineeringUnits display names). */
  deviceUnits?: string[];
}

export type SampleField = 'sampleId' | 'containerId' | 'position';

export interface LadsProfile {
  id: string;
  manufacturer: string;
  model: string;
  notes?: string;
  /** The system of the instrument's own codes (variable browse names), e.g. 99LADS. */
  codeSystem: string;
  /** Where the specimen id is in each SampleInfoType, first non-empty. */
  specimenId: SampleField[];
  decimalComma: boolean;
  /** Unit spellings → UCUM, beyond the common ones. */
  units: Record<string, string>;
  /** Keyed by the variable's path in the VariableSet ("Glucose", "Channel1/Glucose") or its browse name. */
  variables: Record<string, VariableMapping>;
}

export class LadsProfileError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    super(`LADS mapping table ${source}: ${problems.join('; ')}`);
    this.name = 'LadsProfileError';
  }
}

const TOP = new Set(['$schema', 'id', 'manufacturer', 'model', 'notes', 'codeSystem', 'specimenId', 'decimalComma', 'units', 'variables']);
const VARIABLE = new Set(['loinc', 'display', 'unit', 'deviceUnits']);
const FIELDS: readonly SampleField[] = ['sampleId', 'containerId', 'position'];

const isText = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** Checks a parsed table and fills in the defaults; throws LadsProfileError listing every problem. */
export function validateLadsProfile(input: unknown, source = 'table'): LadsProfile {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new LadsProfileError(source, ['/ must be an object']);
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) if (!TOP.has(key)) problems.push(`/${key} is not a known property`);
  for (const key of ['id', 'manufacturer', 'model'] as const) if (!isText(raw[key])) problems.push(`/${key} must be a non-empty text`);
  if (raw.id !== undefined && isText(raw.id) && !/^[a-z0-9][a-z0-9._-]*$/.test(raw.id)) problems.push('/id: lower-case letters, digits, ".", "_" and "-"');
  const specimenId = raw.specimenId ?? ['sampleId', 'containerId'];
  if (!Array.isArray(specimenId) || specimenId.length === 0 || !specimenId.every((f) => FIELDS.includes(f as SampleField))) problems.push(`/specimenId must list some of ${FIELDS.join(', ')}`);
  if (raw.decimalComma !== undefined && typeof raw.decimalComma !== 'boolean') problems.push('/decimalComma must be true or false');
  const units = raw.units ?? {};
  if (typeof units !== 'object' || units === null || Object.values(units).some((u) => !isText(u))) problems.push('/units must map unit spellings to UCUM codes');
  const variables = raw.variables ?? {};
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) problems.push('/variables must be an object');
  else {
    for (const [name, mapping] of Object.entries(variables as Record<string, unknown>)) {
      const where = `/variables/${name}`;
      if (name.trim() !== name || name === '') { problems.push(`${where}: a variable name must not be empty or padded with spaces`); continue; }
      if (typeof mapping !== 'object' || mapping === null) { problems.push(`${where} must be an object`); continue; }
      const m = mapping as Record<string, unknown>;
      for (const key of Object.keys(m)) if (!VARIABLE.has(key)) problems.push(`${where}/${key} is not a known property`);
      if (m.loinc !== undefined && (!isText(m.loinc) || !isValidLoinc(m.loinc))) problems.push(`${where}/loinc ${String(m.loinc)} is not a LOINC code with a right check digit`);
      if (m.deviceUnits !== undefined && (!Array.isArray(m.deviceUnits) || !m.unit)) problems.push(`${where}: deviceUnits (a list) needs the unit they mean`);
    }
  }
  if (problems.length > 0) throw new LadsProfileError(source, problems);
  return {
    id: raw.id as string,
    manufacturer: raw.manufacturer as string,
    model: raw.model as string,
    ...(isText(raw.notes) ? { notes: raw.notes } : {}),
    codeSystem: isText(raw.codeSystem) ? raw.codeSystem : '99LADS',
    specimenId: specimenId as SampleField[],
    decimalComma: raw.decimalComma === true,
    units: units as Record<string, string>,
    variables: variables as Record<string, VariableMapping>,
  };
}

export function loadLadsProfileFile(path: string): LadsProfile {
  const name = basename(path);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new LadsProfileError(name, [`cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  return validateLadsProfile(value, name);
}

let shipped: Map<string, LadsProfile> | undefined;

/** The tables shipped in adapters/opcua/lads/profiles (imported, so the build carries them), by id. */
export function builtinLadsProfiles(): ReadonlyMap<string, LadsProfile> {
  shipped ??= new Map([['lads-generic.json', generic], ['passerelle-simulator.json', simulator]].map(([file, json]) => {
    const profile = validateLadsProfile(json, file as string);
    return [profile.id, profile] as const;
  }));
  return shipped;
}

/** A shipped table by id, or a site's own by file path (ending in .json). */
export function getLadsProfile(idOrPath: string): LadsProfile {
  if (idOrPath.endsWith('.json')) return loadLadsProfileFile(idOrPath);
  const profile = builtinLadsProfiles().get(idOrPath);
  if (!profile) throw new LadsProfileError(idOrPath, [`no such table; shipped: ${[...builtinLadsProfiles().keys()].join(', ')}`]);
  return profile;
}
