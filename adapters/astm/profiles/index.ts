/**
 * The device profiles shipped with Passerelle. They are imported (not read from a folder at run
 * time) so the build carries them; a site's own profiles are loaded with loadProfileFile.
 */
import afinion from './abbott-afinion2.json';
import generic from './astm-generic.json';
import biorad from './biorad-ihcom.json';
import genexpert from './cepheid-genexpert.json';
import euroimmun from './euroimmun-analyzer-i.json';
import pentra from './horiba-pentra-xlr.json';
import yumizen from './horiba-yumizen-h5xx.json';
import galileo from './immucor-galileo-echo.json';
import c111 from './roche-cobas-c111.json';
import c311 from './roche-cobas-c311.json';
import dca from './siemens-dca-vantage.json';
import xn from './sysmex-xn.json';
import xp from './sysmex-xp.json';
import type { AstmMessage } from '../records/parser';
import { ProfileError, validateProfile } from './loader';
import type { DeviceProfile } from './profile';

export { loadProfileFile, validateProfile, ProfileError } from './loader';
export { isValidLoinc, loincCheckDigit } from './loinc';
export { DEFAULT_STATUS_MAP, PROFILE_DEFAULTS, type DeviceProfile, type FieldRef, type IdentifierRef, type NameLayout, type TestMapping } from './profile';
export { PROFILE_SCHEMA } from './schema';

const SOURCES: Array<[string, unknown]> = [
  ['abbott-afinion2.json', afinion], ['astm-generic.json', generic], ['biorad-ihcom.json', biorad], ['cepheid-genexpert.json', genexpert],
  ['euroimmun-analyzer-i.json', euroimmun], ['horiba-pentra-xlr.json', pentra], ['horiba-yumizen-h5xx.json', yumizen],
  ['immucor-galileo-echo.json', galileo], ['roche-cobas-c111.json', c111], ['roche-cobas-c311.json', c311],
  ['siemens-dca-vantage.json', dca], ['sysmex-xn.json', xn], ['sysmex-xp.json', xp],
];

let builtins: Map<string, DeviceProfile> | null = null;

/** The shipped profiles by id, checked once. */
export function builtinProfiles(): ReadonlyMap<string, DeviceProfile> {
  if (!builtins) {
    builtins = new Map();
    for (const [file, json] of SOURCES) {
      const profile = validateProfile(json, file);
      if (builtins.has(profile.id)) throw new ProfileError(file, [`id ${profile.id} is used twice`]);
      builtins.set(profile.id, profile);
    }
  }
  return builtins;
}

/** A shipped profile by id; throws ProfileError naming the known ones. */
export function getProfile(id: string): DeviceProfile {
  const profile = builtinProfiles().get(id);
  if (!profile) throw new ProfileError(id, [`no such profile; known: ${[...builtinProfiles().keys()].join(', ')}`]);
  return profile;
}

/**
 * The profile whose `detect.sender` matches the header's sender field (H.5), among `profiles`
 * (the shipped ones by default); undefined when none does. A site should still configure its
 * device's profile explicitly: detection is for tools and first contact.
 */
export function detectProfile(message: AstmMessage, profiles: Iterable<DeviceProfile> = builtinProfiles().values()): DeviceProfile | undefined {
  const sender = message.header.text(5, message.delimiters).trim();
  for (const profile of profiles) {
    if (profile.detect && new RegExp(profile.detect.sender, 'i').test(sender)) return profile;
  }
  return undefined;
}
