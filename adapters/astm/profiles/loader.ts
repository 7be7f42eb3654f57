/**
 * Loading device profiles: JSON → schema check → meaning check (time zone, regular expression,
 * LOINC check digits, link settings) → defaults filled in. Every problem is listed with where it
 * is, so a site fixing its own profile sees all of them at once.
 */
import Ajv2020 from 'ajv/dist/2020';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { resolveLinkSettings } from '../link/settings';
import { isDateFormat } from '../mapping/time';
import { isValidLoinc } from './loinc';
import { type DeviceProfile, PROFILE_DEFAULTS } from './profile';
import { PROFILE_SCHEMA } from './schema';

export class ProfileError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    super(`device profile ${source}: ${problems.join('; ')}`);
    this.name = 'ProfileError';
  }
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
const check = ajv.compile(PROFILE_SCHEMA);

/** Checks a parsed profile and fills in the defaults; throws ProfileError listing every problem. */
export function validateProfile(input: unknown, source = 'profile'): DeviceProfile {
  if (!check(input)) {
    const problems = (check.errors ?? []).map((e) => {
      const where = e.instancePath || '/';
      const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : '';
      return `${where} ${e.message ?? 'is invalid'}${extra}`;
    });
    throw new ProfileError(source, [...new Set(problems)]);
  }
  const raw = input as Partial<DeviceProfile> & Pick<DeviceProfile, 'id' | 'manufacturer' | 'model'>;
  const profile: DeviceProfile = {
    ...structuredClone(PROFILE_DEFAULTS) as unknown as Omit<DeviceProfile, 'id' | 'manufacturer' | 'model'>,
    ...structuredClone(raw),
    patient: { ...structuredClone(PROFILE_DEFAULTS.patient) as DeviceProfile['patient'], ...structuredClone(raw.patient ?? {}) },
    qualityControl: { ...structuredClone(PROFILE_DEFAULTS.qualityControl) as DeviceProfile['qualityControl'], ...structuredClone(raw.qualityControl ?? {}) },
    testCode: { ...structuredClone(PROFILE_DEFAULTS.testCode) as DeviceProfile['testCode'], ...structuredClone(raw.testCode ?? {}) },
  };
  delete (profile as { $schema?: unknown }).$schema;

  const problems: string[] = [];
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: profile.timeZone });
  } catch {
    problems.push(`/timeZone is not an IANA time zone`);
  }
  if (!isDateFormat(profile.dateFormat)) problems.push('/dateFormat needs YYYY, MM and DD');
  if (profile.detect) {
    try {
      new RegExp(profile.detect.sender, 'i');
    } catch {
      problems.push('/detect/sender is not a valid regular expression');
    }
  }
  try {
    resolveLinkSettings(profile.link);
  } catch (err) {
    problems.push(`/link: ${(err as Error).message}`);
  }
  for (const [code, mapping] of Object.entries(profile.tests)) {
    if (code.trim() !== code || code === '') problems.push(`/tests/${code}: a test code must not be empty or padded with spaces`);
    if (mapping.loinc && !isValidLoinc(mapping.loinc)) problems.push(`/tests/${code}/loinc ${mapping.loinc} has a wrong check digit`);
    if (mapping.deviceUnits && !mapping.unit) problems.push(`/tests/${code}: deviceUnits without the unit they mean`);
  }
  if (problems.length > 0) throw new ProfileError(source, problems);
  return profile;
}

/** Reads and checks one profile file. */
export function loadProfileFile(path: string): DeviceProfile {
  const name = basename(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ProfileError(name, [`cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ProfileError(name, [`not valid JSON: ${(err as Error).message}`]);
  }
  return validateProfile(value, name);
}
