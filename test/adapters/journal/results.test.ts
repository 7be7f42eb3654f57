import { expect } from 'chai';
import type { ResultRow } from '../../../adapters/journal';
import { hl7Payload, openTempStore, sampleResult, type OpenedStore } from './helpers';

describe('journal store: results index', () => {
  let t: OpenedStore;
  beforeEach(() => { t = openTempStore(); });
  afterEach(() => t.cleanup());

  it('keeps a summary and the full result', () => {
    const result = sampleResult(7);
    const inboundId = t.store.journalInbound({ channel: 'astm:h500', contentType: 'application/astm', raw: Buffer.from('H|'), status: 'accepted', resultId: result.id });
    t.store.recordResult(result, inboundId);
    const [row] = t.store.listResults({ limit: 10 }).results;
    expect(row).to.deep.include({
      id: 'result-0007',
      receivedAt: '2026-11-23T09:00:07.000Z',
      kind: 'biology',
      site: 'test-site',
      deviceId: 'analyser-odd',
      patient: { name: 'NOËL Hélène', id: 'INS1007' },
      specimenId: 'S7',
      observationCount: 2,
      matched: true,
      inboundId,
      deliveries: [],
    });
    expect(row.recordedAt).to.be.within(Date.now() - 5000, Date.now());
    expect(row.result).to.deep.equal(result);
  });

  it('pages newest first with an opaque cursor, without gaps or repeats', () => {
    for (let n = 1; n <= 25; n++) t.store.recordResult(sampleResult(n));
    const seen: string[] = [];
    let before: string | undefined;
    const sizes: number[] = [];
    for (;;) {
      const page = t.store.listResults({ limit: 10, before });
      sizes.push(page.results.length);
      seen.push(...page.results.map((r) => r.id));
      if (!page.next) break;
      before = page.next;
    }
    expect(sizes).to.deep.equal([10, 10, 5]);
    expect(seen).to.deep.equal(Array.from({ length: 25 }, (_, i) => sampleResult(25 - i).id));
    // An exact multiple: no empty last page.
    const exact = t.store.listResults({ limit: 25 });
    expect(exact.results).to.have.length(25);
    expect(exact.next).to.equal(undefined);
    expect(t.store.listResults({ limit: 10, before: 'not a cursor!' }).results).to.deep.equal([]);
  });

  it('filters by device and by a piece of the patient name or identifier, ignoring case and accents', () => {
    for (let n = 1; n <= 12; n++) t.store.recordResult(sampleResult(n));
    t.store.recordResult(sampleResult(13, { patient: undefined, source: { site: 'test-site', deviceClass: 'vitals', deviceId: 'cart-1' } }));
    const ids = (rows: ResultRow[]) => rows.map((r) => r.id.replace('result-00', ''));
    expect(ids(t.store.listResults({ limit: 50, deviceId: 'analyser-even' }).results)).to.deep.equal(['12', '10', '08', '06', '04', '02']);
    expect(ids(t.store.listResults({ limit: 50, patient: 'helene' }).results)).to.deep.equal(['07']);
    expect(ids(t.store.listResults({ limit: 50, patient: 'noel' }).results)).to.deep.equal(['07']);
    expect(ids(t.store.listResults({ limit: 50, patient: 'IPP1' }).results)).to.deep.equal(['12', '11', '10', '01']);
    expect(ids(t.store.listResults({ limit: 50, patient: 'ins1003' }).results)).to.deep.equal(['03']);
    expect(ids(t.store.listResults({ limit: 50, patient: 'family1', deviceId: 'analyser-odd' }).results)).to.deep.equal(['11', '01']);
    expect(t.store.listResults({ limit: 50, patient: '%' }).results).to.deep.equal([]);
    expect(t.store.listResults({ limit: 50, patient: '_' }).results).to.deep.equal([]);
    const page = t.store.listResults({ limit: 2, deviceId: 'analyser-even' });
    expect(ids(t.store.listResults({ limit: 2, deviceId: 'analyser-even', before: page.next }).results)).to.deep.equal(['08', '06']);
    const noPatient = t.store.listResults({ limit: 50, deviceId: 'cart-1' }).results[0];
    expect(noPatient.patient).to.equal(undefined);
    expect(noPatient.matched).to.equal(false);
  });

  it('upserts by id: a result seen again is updated in place and keeps its place in the list', () => {
    t.store.recordResult(sampleResult(3));
    t.store.recordResult(sampleResult(4));
    expect(t.store.listResults({ limit: 10 }).results.find((r) => r.id === 'result-0003')?.matched).to.equal(false);
    const reconciled = sampleResult(3);
    reconciled.patient!.matched = true;
    reconciled.patient!.matchedBy = 'manual';
    t.store.recordResult(reconciled);
    const rows = t.store.listResults({ limit: 10 }).results;
    expect(rows.map((r) => r.id)).to.deep.equal(['result-0004', 'result-0003']);
    expect(rows[1].matched).to.equal(true);
    expect(rows[1].result.patient?.matchedBy).to.equal('manual');
  });

  it('shows the delivery state of each destination from the outbound rows', () => {
    const result = sampleResult(1);
    t.store.recordResult(result);
    t.store.recordResult(sampleResult(2));
    const ehr = t.store.enqueue({ destination: 'ehr', dedupeKey: result.id, resultId: result.id, build: hl7Payload });
    const gp = t.store.enqueue({ destination: 'gp', dedupeKey: result.id, resultId: result.id, build: hl7Payload });
    t.store.markSent(ehr.id, 1000);
    t.store.markAccepted(ehr.id, { code: 'AA' }, 1200);
    t.store.markSent(gp.id, 1000);
    t.store.markRetry(gp.id, 'AE: mailbox full', 5000, true);
    const [second, first] = t.store.listResults({ limit: 10 }).results;
    expect(second.deliveries).to.deep.equal([]);
    expect(first.deliveries).to.deep.equal([
      { outboundId: ehr.id, destination: 'ehr', state: 'accepted', controlId: ehr.controlId, attempts: 1, ackCode: 'AA', queuedAt: first.deliveries[0].queuedAt, sentAt: 1000, updatedAt: 1200, lastError: undefined },
      { outboundId: gp.id, destination: 'gp', state: 'waiting', controlId: gp.controlId, attempts: 1, lastError: 'AE: mailbox full', ackCode: undefined, queuedAt: first.deliveries[1].queuedAt, sentAt: 1000, updatedAt: first.deliveries[1].updatedAt },
    ]);
  });
});
