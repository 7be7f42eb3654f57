import { expect } from 'chai';
import { gpOf, Hl7Message } from '../../../adapters/hl7';
import { assignGps, checkMailbox, GpDirectoryError, loadGpDirectory, planReports, resolveGp, type GpDirectory } from '../../../adapters/gp';
import { InvalidResultError, validateResult, type Patient } from '../../../adapters/model';
import { exampleResult } from './fixtures';

const MSH = 'MSH|^~\\&|DXCARE|CHA|PASSERELLE|CSO|20261123091500+0100||ADT^A08^ADT_A01|M-1|P|2.5|||||FRA|8859/1\r';
const PID = 'PID|1||284037512345678^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO^INS-NIR||NOËL^Hélène^^^^^D||19840312|F\r';
const ORC = 'ORC|NW|CMD-1||||||||||10101234567^CŒURDEROY^Anaïs^^^Dr^^^ASIP-SANTE-PS&1.2.250.1.71.4.2.1&ISO\r';
const OBR = 'OBR|1|CMD-1||58410-2^NFS^LN||||||||||||10101234567^CŒURDEROY^Anaïs\r';
const PV1 = 'PV1|1|O||||||10109999999^GARNIER^Zoé\r';

describe('who is the GP: from the record\'s messages (HL7)', () => {
  it('reads ROL with role ODRP/PP/FHCP, preferring the declared médecin traitant, and skips a deleted role', () => {
    const message = Hl7Message.parse(MSH + PID +
      'ROL|1|DE|ODRP^Médecin traitant déclaré|10100000001^ANCIEN^Paul\r' +
      'ROL|2|AD|FHCP^Family health care professional|10100000002^MÜLLER^Jean\r' +
      'ROL|3|UC|PP^Primary care provider|10100987654^LEFÈVRE^Benoît^^^Dr^^^ASIP-SANTE-PS&1.2.250.1.71.4.2.1&ISO\r');
    expect(gpOf(message)).to.deep.equal({ from: 'ROL', id: '10100987654', authority: 'RPPS', name: { family: 'LEFÈVRE', given: ['Benoît'], prefix: 'Dr' } });
  });

  it('reads PD1-4 when no ROL names the GP', () => {
    const message = Hl7Message.parse(`${MSH}${PID}PD1|||CABINET DU LAC|10100987654^LEFÈVRE^Benoît^^^Dr^^^^^^^RPPS\r`);
    expect(gpOf(message)).to.deep.equal({ from: 'PD1-4', id: '10100987654', authority: 'RPPS', name: { family: 'LEFÈVRE', given: ['Benoît'], prefix: 'Dr' } });
  });

  it('does not take the ordering or referring doctor for the GP unless asked, then in the order asked', () => {
    const message = Hl7Message.parse(MSH.replace('ADT^A08^ADT_A01', 'OML^O21^OML_O21') + PID + PV1 + ORC + OBR);
    expect(gpOf(message)).to.equal(undefined);
    expect(gpOf(message, { fallback: ['PV1-8', 'ORC-12'] })).to.deep.equal({ from: 'PV1-8', id: '10109999999', name: { family: 'GARNIER', given: ['Zoé'] } });
    expect(gpOf(message, { fallback: ['ORC-12'] })).to.include({ from: 'ORC-12', id: '10101234567', authority: 'RPPS' });
    expect(gpOf(message, { fallback: ['OBR-16'] })?.name?.family).to.equal('CŒURDEROY');
  });
});

describe('GP directory', () => {
  const directoryJson = () => ({
    schema: 'passerelle.gp-directory/1',
    doctors: [
      { rpps: '10100987654', name: { family: 'LEFÈVRE', given: ['Benoît'], prefix: 'Dr' }, mailbox: 'benoit.lefevre@medecin.mssante.fr', formats: ['cda-crbio', 'hprim-medecin'], hprimCode: 'LEFEVREB' },
      { rpps: '10100555555', name: { family: 'DUPRÉ', given: ['Élise'] }, mailbox: 'e.dupre@cabinet-lac.fr', formats: ['hprim-medecin'] },
    ],
    patients: [{ identifier: 'IPP00099999', authority: 'CSO-ANNECY', rpps: '10100555555' }],
  });

  it('validates mailboxes as a mail server would, and knows the MSSanté domains', () => {
    expect(checkMailbox('benoit.lefevre@medecin.mssante.fr')).to.deep.equal({ ok: true, mssante: true });
    expect(checkMailbox('dr.x@hopital.formation.mssante.fr')).to.deep.equal({ ok: true, mssante: true });
    expect(checkMailbox('e.dupre@cabinet-lac.fr')).to.deep.equal({ ok: true, mssante: false });
    const bad: Record<string, RegExp> = {
      'benoit.lefevre': /local-part@domain/,
      'benoit lefèvre@medecin.mssante.fr': /local part/,
      '.benoit@medecin.mssante.fr': /misplaced dot/,
      'benoit@medecin': /two labels/,
      'benoit@-medecin.mssante.fr': /host name/,
      'benoit@medecin.mssante.123': /top-level/,
      [`${'a'.repeat(65)}@medecin.mssante.fr`]: /64/,
    };
    for (const [address, reason] of Object.entries(bad)) {
      const check = checkMailbox(address);
      expect(check.ok, address).to.equal(false);
      if (!check.ok) expect(check.reason, address).to.match(reason);
    }
  });

  it('loads a directory and warns about a mailbox outside MSSanté', () => {
    const directory = loadGpDirectory(directoryJson());
    expect([...directory.doctors.keys()]).to.deep.equal(['10100987654', '10100555555']);
    expect(directory.warnings).to.deep.equal(['doctors[1].mailbox is outside the MSSanté domains (*.mssante.fr)']);
  });

  it('names every problem of a bad directory, never a patient identifier', () => {
    const bad = directoryJson() as { doctors: Array<Record<string, unknown>>; patients: Array<Record<string, unknown>> };
    bad.doctors[0].mailbox = 'benoit.lefevre@medecin';
    bad.doctors[1].rpps = '123';
    bad.doctors[1].formats = ['fax'];
    bad.patients.push({ identifier: '284037512345678', rpps: '19999999999' });
    try {
      loadGpDirectory(bad);
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).to.be.instanceOf(GpDirectoryError);
      expect((err as GpDirectoryError).problems).to.deep.equal([
        'doctors[0].mailbox is not a valid mailbox: domain is not a host name (letters, digits, hyphens, at least two labels)',
        'doctors[1].rpps must be an RPPS number (11 digits)',
        'doctors[1].formats must list one or more of hprim-medecin, hprim-sante, cda-crbio, pdf',
        'patients[0].rpps names no doctor of the directory',
        'patients[1].rpps names no doctor of the directory',
      ]);
      expect((err as Error).message).not.to.contain('284037512345678');
    }
  });

  it('resolves the GP: the directory\'s patient link first, then the messages\' GP completed by RPPS', () => {
    const directory: GpDirectory = loadGpDirectory(directoryJson());
    const patient: Patient = { identifiers: [{ value: 'IPP00099999', authority: 'CSO-ANNECY' }], matched: true };
    const fromMessages = { id: '10100987654', name: { family: 'LEFÈVRE', given: ['Benoît'] }, from: 'ROL' };
    const linked = resolveGp(patient, fromMessages, directory);
    expect(linked.ok && linked.gp).to.deep.include({ id: '10100555555', mailbox: 'e.dupre@cabinet-lac.fr', from: 'directory' });
    const completed = resolveGp({ ...patient, identifiers: [{ value: 'OTHER' }] }, fromMessages, directory);
    expect(completed).to.deep.equal({
      ok: true,
      hprimCode: 'LEFEVREB',
      gp: { id: '10100987654', authority: 'RPPS', name: { family: 'LEFÈVRE', given: ['Benoît'] }, mailbox: 'benoit.lefevre@medecin.mssante.fr', formats: ['cda-crbio', 'hprim-medecin'], from: 'ROL+directory' },
    });
    expect(resolveGp(patient, undefined)).to.deep.equal({ ok: false, reason: 'no GP known for this patient (none in the record\'s messages, none in the directory)' });
    const unlinked: Patient = { identifiers: [{ value: 'IPP00011111' }], matched: true };
    expect(resolveGp(unlinked, { id: '10100000000', from: 'PD1-4' }, directory)).to.include({ ok: false, reason: 'the GP is known but has no secure messaging address (add the GP to the directory)' });
    expect(resolveGp(patient, { id: '1', mailbox: 'pas une adresse', from: 'PD1-4' })).to.include({ ok: false });
  });

  it('lists the reports whose patient has no known GP instead of dropping them', () => {
    const withGp = exampleResult();
    const without = exampleResult();
    without.id = 'r-sans-medecin';
    without.order!.placerNumber = 'CMD-2';
    without.patient = { identifiers: [{ value: 'IPP00077777', authority: 'CSO-ANNECY' }], name: { family: 'CŒURDEROY', given: ['Noé'] }, matched: true };
    const { reports } = planReports([withGp, without]);
    const { ready, withoutGp } = assignGps(reports);
    expect(ready.map((r) => r.report.patient.name?.family)).to.deep.equal(['NOËL']);
    expect(withoutGp).to.deep.equal([{ documentId: reports[1].documentId, resultIds: ['r-sans-medecin'], reason: 'no GP known for this patient (none in the record\'s messages, none in the directory)' }]);
  });
});

describe('canonical result 1.1: the patient\'s GP', () => {
  it('accepts the documented example\'s GP with its MSSanté address, and refuses a bad one', () => {
    const result = validateResult(exampleResult());
    expect(result.patient?.gp).to.deep.include({ id: '10100987654', mailbox: 'benoit.lefevre@medecin.mssante.fr', formats: ['cda-crbio', 'hprim-medecin'] });
    const bad = exampleResult();
    bad.patient!.gp!.mailbox = 'not a mailbox';
    (bad.patient!.gp!.formats as string[]).push('fax');
    try {
      validateResult(bad);
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).to.be.instanceOf(InvalidResultError);
      const problems = (err as InvalidResultError).problems.join('\n');
      expect(problems).to.contain('/patient/gp/mailbox must match format "email"');
      expect(problems).to.contain('/patient/gp/formats/2 must be equal to one of the allowed values');
    }
  });
});
