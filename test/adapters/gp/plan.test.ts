import { expect } from 'chai';
import { documentIdFor, planReports } from '../../../adapters/gp';
import { exampleResult } from './fixtures';

describe('what goes to the GP: reports per patient and visit', () => {
  it('groups results of one visit, sends final observations only and lists the rest', () => {
    const cbc = exampleResult();
    const crp = exampleResult();
    crp.id = 'crp-2';
    crp.observations = [crp.observations[3]];
    const { reports, skipped } = planReports([cbc, crp]);
    expect(reports).to.have.length(1);
    expect(reports[0].items.map((i) => `${i.resultId}:${i.observation.deviceCode.code}`)).to.deep.equal([
      `${cbc.id}:WBC`, `${cbc.id}:HGB`, `${cbc.id}:PLT`, `${cbc.id}:CRP`, 'crp-2:CRP',
    ]);
    expect(skipped).to.deep.equal([{ resultId: cbc.id, reason: 'observation MORPHO has status P, not final' }]);
    expect(reports[0]).to.deep.include({ version: 1, correction: false, orderNumber: 'CMD-2026-118734', collectedAt: '2026-11-23T09:32:00+01:00', reportedAt: '2026-11-23T09:41:07+01:00' });
    expect(reports[0].documentId).to.equal(documentIdFor([cbc.id, 'crp-2']));
  });

  it('without an order number, a visit is the patient\'s day in Europe/Paris (23:30 UTC is already the next day)', () => {
    const a = exampleResult();
    const b = exampleResult();
    b.id = 'late';
    delete a.order;
    delete b.order;
    a.specimen!.collectedAt = '2026-06-30T21:30:00Z'; // 23:30 in Paris, 30 June
    b.specimen!.collectedAt = '2026-06-30T22:30:00Z'; // 00:30 in Paris, 1 July
    expect(planReports([a, b]).reports).to.have.length(2);
    b.specimen!.collectedAt = '2026-06-30T21:50:00Z';
    expect(planReports([a, b]).reports).to.have.length(1);
  });

  it('sends a correction as a correction: its own report, same set, next version', () => {
    const original = exampleResult();
    const corrected = exampleResult();
    corrected.id = 'corr-1';
    corrected.status = 'corrected';
    corrected.replaces = original.id;
    corrected.observations = [{ ...corrected.observations[1], value: 11.2, status: 'C' }];
    const { reports } = planReports([original, corrected]);
    expect(reports.map((r) => [r.correction, r.version])).to.deep.equal([[false, 1], [true, 2]]);
    expect(reports[1].setId).to.equal(reports[0].setId);
    expect(reports[1].replaces).to.deep.equal([original.id]);
    expect(reports[1].items.map((i) => i.observation.value)).to.deep.equal([11.2]);
  });

  it('holds unmatched patients, preliminary, cancelled and non-biology results, saying why', () => {
    const unmatched = exampleResult();
    unmatched.patient!.matched = false;
    const preliminary = { ...exampleResult(), id: 'p', status: 'preliminary' as const };
    const imaging = { ...exampleResult(), id: 'i', kind: 'imaging' as const };
    const nobody = exampleResult();
    nobody.id = 'n';
    delete nobody.patient;
    const { reports, skipped } = planReports([unmatched, preliminary, imaging, nobody]);
    expect(reports).to.deep.equal([]);
    expect(skipped.map((s) => s.reason)).to.deep.equal([
      'patient not matched: held until a person assigns it',
      'result status is preliminary',
      'imaging notifications are not sent to the GP (rule off in "GP message")',
      'no patient',
    ]);
  });
});
