import { expect } from 'chai';
import type { Patient } from '../../../adapters/model/result';
import { matchResult } from '../../../adapters/matching';
import { hl7Payload, openTempStore, sampleResult, type OpenedStore } from './helpers';
import { SCHEMA_VERSION } from '../../../adapters/journal';

const PATIENT: Patient = {
  identifiers: [{ value: '284037512345678', type: 'INS-NIR', authority: 'urn:oid:1.2.250.1.213.1.4.8' }, { value: 'IPP42', authority: 'HOSP', type: 'PI' }],
  name: { family: 'NOËL', given: ['Hélène'] },
  birthDate: '1984-03-12',
  sex: 'F',
  matched: true,
  matchedBy: 'order',
};

/** A result as an analyser sends it: a specimen id, no patient. */
function held(n: number, specimenId: string) {
  const { patient: _patient, ...rest } = sampleResult(n, { specimen: { id: specimenId } });
  return rest;
}

describe('journal store: orders index and unmatched results', () => {
  let t: OpenedStore;
  beforeEach(() => { t = openTempStore(); });
  afterEach(() => t.cleanup());

  it('indexes an order and finds it by specimen id and by placer number', () => {
    const indexed = t.store.indexOrder({
      specimenId: 'S1', placerNumber: 'P1', fillerNumber: 'F1', accessionNumber: 'A1', patient: PATIENT,
      orderedAt: '2026-11-23T08:00:00+01:00', orderCode: { code: 'GLU', display: 'Glucose' }, sourceJournalId: 'J1',
    });
    expect(indexed).to.deep.include({ specimenId: 'S1', placerNumber: 'P1', fillerNumber: 'F1', accessionNumber: 'A1', sourceJournalId: 'J1' });
    expect(t.store.findOrderBySpecimen('S1')!.patient).to.deep.equal(PATIENT);
    expect(t.store.findOrderBySpecimen('S1')!.orderCode).to.deep.equal({ code: 'GLU', display: 'Glucose' });
    expect(t.store.findOrderByPlacer('P1')!.specimenId).to.equal('S1');
    expect(t.store.findOrderBySpecimen('S2')).to.equal(undefined);
  });

  it('upserts by specimen id: a later order message replaces what it says and keeps what it leaves out', () => {
    t.store.indexOrder({ specimenId: 'S1', placerNumber: 'P1', patient: PATIENT });
    const other = { ...PATIENT, identifiers: [{ value: 'IPP43', authority: 'HOSP' }] };
    t.store.indexOrder({ specimenId: 'S1', fillerNumber: 'F9', patient: other });
    const order = t.store.findOrderBySpecimen('S1')!;
    expect(order).to.deep.include({ specimenId: 'S1', placerNumber: 'P1', fillerNumber: 'F9' });
    expect(order.patient.identifiers).to.deep.equal([{ value: 'IPP43', authority: 'HOSP' }]);
  });

  it('keys an order without a specimen id by its placer number, and refuses one with neither or no patient identifier', () => {
    t.store.indexOrder({ placerNumber: 'P7', patient: PATIENT });
    t.store.indexOrder({ placerNumber: 'P7', fillerNumber: 'F7', patient: PATIENT });
    expect(t.store.findOrderByPlacer('P7')).to.deep.include({ placerNumber: 'P7', fillerNumber: 'F7' });
    expect(() => t.store.indexOrder({ patient: PATIENT })).to.throw(TypeError, /specimen id or a placer number/);
    expect(() => t.store.indexOrder({ specimenId: 'S9', patient: { ...PATIENT, identifiers: [] } })).to.throw(TypeError, /at least one identifier/);
  });

  it('lists held results (not matched, queued nowhere), newest first, paged', () => {
    for (let n = 1; n <= 5; n++) t.store.recordResult(held(n, `S${n}`));
    t.store.recordResult(sampleResult(8)); // matched: not listed
    const queued = held(7, 'S7'); // unmatched but queued somewhere: not held
    t.store.recordResult(queued);
    t.store.enqueue({ destination: 'ehr', dedupeKey: queued.id, resultId: queued.id, build: (c) => hl7Payload(c) });
    const first = t.store.listUnmatched({ limit: 3 });
    expect(first.results.map((r) => r.id)).to.deep.equal(['result-0005', 'result-0004', 'result-0003']);
    expect(first.results.every((r) => r.matched === false)).to.equal(true);
    const second = t.store.listUnmatched({ limit: 3, before: first.next });
    expect(second.results.map((r) => r.id)).to.deep.equal(['result-0002', 'result-0001']);
    expect(second.next).to.equal(undefined);
    expect(t.store.listUnmatched({ limit: 3, before: 'not a cursor!' }).results).to.deep.equal([]);
    expect(t.store.unmatchedBySpecimen('S2').map((r) => r.id)).to.deep.equal(['result-0002']);
    expect(t.store.unmatchedBySpecimen('S7')).to.deep.equal([]);
  });

  it('assigns a patient to a held result, once', () => {
    t.store.recordResult(held(1, 'S1'));
    const { matched: _m, matchedBy: _b, ...given } = PATIENT;
    const outcome = t.store.assignPatient('result-0001', given, 'manual');
    expect(outcome.status).to.equal('assigned');
    const stored = t.store.getResult('result-0001')!;
    expect(stored.patient).to.deep.equal({ ...given, matched: true, matchedBy: 'manual' });
    expect(t.store.listUnmatched({ limit: 10 }).results).to.deep.equal([]);
    expect(t.store.listResults({ limit: 10 }).results[0]).to.deep.include({ matched: true, patient: { name: 'NOËL Hélène', id: '284037512345678' } });
    expect(t.store.assignPatient('result-0001', given, 'manual').status).to.equal('already-matched');
    expect(t.store.assignPatient('nope', given, 'manual').status).to.equal('not-found');
  });

  it('matchResult: keeps a device-matched patient, matches by specimen or placer number, leaves the rest unmatched', () => {
    t.store.indexOrder({ specimenId: 'S1', placerNumber: 'P1', fillerNumber: 'F1', patient: PATIENT, orderCode: { code: 'GLU' }, orderedAt: '2026-11-23T07:00:00Z' });
    const device = sampleResult(1);
    expect(matchResult(t.store, device)).to.equal(device);
    const bySpecimen = matchResult(t.store, held(2, 'S1'));
    expect(bySpecimen.patient).to.deep.equal({ ...PATIENT, matched: true, matchedBy: 'order' });
    expect(bySpecimen.order).to.deep.include({ placerNumber: 'P1', fillerNumber: 'F1', code: { code: 'GLU' } });
    expect(bySpecimen.times.ordered).to.equal('2026-11-23T07:00:00Z');
    const ownNumbers = matchResult(t.store, { ...held(3, 'S1'), order: { placerNumber: 'MINE' } });
    expect(ownNumbers.order).to.deep.include({ placerNumber: 'MINE', fillerNumber: 'F1' });
    const byPlacer = matchResult(t.store, { ...held(4, 'UNKNOWN'), order: { placerNumber: 'P1' } });
    expect(byPlacer.patient?.matchedBy).to.equal('order');
    const none = held(5, 'S404');
    expect(matchResult(t.store, none)).to.equal(none);
  });

  it('prunes orders with age like the rest', () => {
    t.store.indexOrder({ specimenId: 'S1', patient: PATIENT });
    expect(t.store.prune({ maxAgeMs: 3_600_000 }, Date.now()).orders).to.equal(0);
    expect(t.store.prune({ maxAgeMs: 3_600_000 }, Date.now() + 7_200_000).orders).to.equal(1);
    expect(t.store.findOrderBySpecimen('S1')).to.equal(undefined);
  });

  it('survives a reopen (migration 2 applied once)', () => {
    t.store.indexOrder({ specimenId: 'S1', patient: PATIENT });
    t.store.close();
    const again = t.reopen();
    expect(again.findOrderBySpecimen('S1')!.patient.identifiers[0].value).to.equal('284037512345678');
    expect(again.info().schemaVersion).to.equal(SCHEMA_VERSION);
  });
});
