/**
 * Device profiles are data: the shipped ones load and check out, a site's own file loads from
 * disk, and a broken one is refused with every problem listed.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  builtinProfiles, detectProfile, getProfile, isValidLoinc, loadProfileFile, parseMessage, ProfileError, validateProfile,
} from '../../../adapters/astm';
import { tempDir } from '../../support/net';
import { expectedText, fixture, FRAMED_FIXTURES } from './helpers';

describe('astm profiles', () => {
  it(`ships ${13} profiles that load, with valid LOINC check digits`, () => {
    const profiles = [...builtinProfiles().values()];
    expect(profiles.map((p) => p.id).sort()).to.deep.equal([
      'abbott-afinion2', 'astm-generic', 'biorad-ihcom', 'cepheid-genexpert', 'euroimmun-analyzer-i', 'horiba-pentra-xlr', 'horiba-yumizen-h5xx',
      'immucor-galileo-echo', 'roche-cobas-c111', 'roche-cobas-c311', 'siemens-dca-vantage', 'sysmex-xn', 'sysmex-xp',
    ]);
    for (const profile of profiles) {
      expect(profile.timeZone, profile.id).to.equal('Europe/Paris');
      for (const [code, mapping] of Object.entries(profile.tests)) expect(isValidLoinc(mapping.loinc!), `${profile.id} ${code}`).to.equal(true);
    }
    // Defaults filled in.
    const generic = getProfile('astm-generic');
    expect(generic.specimenId).to.deep.equal([{ field: 3, component: 1 }, { field: 4, component: 1 }]);
    expect(generic.testCode).to.deep.equal({ components: [4], separator: '^' });
    expect(generic.charset).to.equal('latin1');
  });

  it('maps the codes we are sure of (HbA1c 4548-4, WBC 6690-2, HGB 718-7, PLT 777-3, RBC 789-8, HCT 4544-3, MCV 787-2)', () => {
    expect(getProfile('abbott-afinion2').tests.HbA1c).to.include({ loinc: '4548-4', unit: '%' });
    const xn = getProfile('sysmex-xn').tests;
    expect([xn.WBC.loinc, xn.HGB.loinc, xn.PLT.loinc, xn.RBC.loinc, xn.HCT.loinc, xn.MCV.loinc]).to.deep.equal(['6690-2', '718-7', '777-3', '789-8', '4544-3', '787-2']);
    // Left unmapped rather than guessed.
    expect(xn['IG#']).to.equal(undefined);
    expect(getProfile('horiba-pentra-xlr').tests.HGB).to.equal(undefined);
    expect(Object.keys(getProfile('cepheid-genexpert').tests)).to.deep.equal([]);
  });

  it('LOINC check digits: catches the wrong codes one real device sends', () => {
    for (const good of ['4548-4', '6690-2', '718-7', '777-3', '789-8', '4544-3', '787-2', '21000-5', '804-5']) expect(isValidLoinc(good), good).to.equal(true);
    for (const bad of ['789-9', '2100-5', '4548-5', '4548', 'LP1234-5']) expect(isValidLoinc(bad), bad).to.equal(false);
  });

  it('refuses a broken profile, listing every problem with where it is', () => {
    try {
      validateProfile({
        id: 'Bad Id', manufacturer: 'X', model: 'Y', timeZone: 'Europe/Pariss', detect: { sender: '(' }, link: { receiveTimeoutMs: -5 },
        tests: { WBC: { loinc: '6690-3' }, HGB: { loinc: '718-7', deviceUnits: ['1'] } }, specimenId: [{ field: 0 }], extra: true,
      }, 'bad.json');
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(ProfileError);
      const problems = (err as ProfileError).problems.join('\n');
      expect(problems).to.match(/\/id must match pattern/);
      expect(problems).to.match(/\/specimenId\/0\/field must be >= 1/);
      expect(problems).to.match(/must NOT have additional properties \(extra\)/);
      expect((err as Error).message).to.match(/^device profile bad\.json:/);
    }
    try {
      validateProfile({ id: 'ok', manufacturer: 'X', model: 'Y', timeZone: 'Europe/Pariss', detect: { sender: '(' }, link: { receiveTimeoutMs: -5 }, tests: { WBC: { loinc: '6690-3' }, HGB: { loinc: '718-7', deviceUnits: ['1'] } } });
      expect.fail('should throw');
    } catch (err) {
      expect((err as ProfileError).problems).to.deep.equal([
        '/timeZone is not an IANA time zone',
        '/detect/sender is not a valid regular expression',
        '/link: link setting receiveTimeoutMs must be a number of milliseconds ≥ 0',
        '/tests/WBC/loinc 6690-3 has a wrong check digit',
        '/tests/HGB: deviceUnits without the unit they mean',
      ]);
    }
  });

  it('loads a site\'s own profile from a file; says which file when it cannot', () => {
    const { dir, remove } = tempDir();
    try {
      const path = join(dir, 'site-xn.json');
      writeFileSync(path, JSON.stringify({ id: 'site-xn', manufacturer: 'Sysmex', model: 'XN-550', testCode: { components: [5] }, tests: { WBC: { loinc: '6690-2', unit: '10*3/uL', deviceUnits: ['x10^3/uL'] } } }));
      const profile = loadProfileFile(path);
      expect(profile.testCode).to.deep.equal({ components: [5], separator: '^' });
      expect(profile.tests.WBC.deviceUnits).to.deep.equal(['x10^3/uL']);
      writeFileSync(join(dir, 'broken.json'), '{"id": ');
      expect(() => loadProfileFile(join(dir, 'broken.json'))).to.throw(ProfileError, /broken\.json: not valid JSON/);
      expect(() => loadProfileFile(join(dir, 'absent.json'))).to.throw(ProfileError, /absent\.json: cannot be read: ENOENT/);
      expect(() => getProfile('nope')).to.throw(ProfileError, /known: abbott-afinion2/);
    } finally {
      remove();
    }
  });

  it('recognises each framed capture\'s device from its header (H.5)', () => {
    const expected: Record<string, string> = {
      'abbott-afinion2.txt': 'abbott-afinion2', 'cepheid-genexpert.txt': 'cepheid-genexpert', 'horiba-pentra-xlr.txt': 'horiba-pentra-xlr',
      'horiba-yumizen-h500.txt': 'horiba-yumizen-h5xx', 'roche-cobas-c111.txt': 'roche-cobas-c111', 'roche-cobas-c311.txt': 'roche-cobas-c311',
      'siemens-dca-vantage.txt': 'siemens-dca-vantage', 'sysmex-xn550.txt': 'sysmex-xn', 'sysmex-xp100.txt': 'sysmex-xp',
    };
    for (const file of FRAMED_FIXTURES) {
      const message = parseMessage(expectedText(fixture(file).bytes));
      expect(detectProfile(message)?.id, file).to.equal(expected[file]);
    }
  });
});
