import { expect } from 'chai';
import { turnaroundsOf } from '../../../adapters/turnaround';
import { openTempStore, sampleResult, hl7Payload, type OpenedStore } from '../journal/helpers';

describe('journal: metric points queue and what turnaround reads from the store', () => {
  let t: OpenedStore;
  beforeEach(() => { t = openTempStore(); });
  afterEach(() => t.cleanup());

  it('keeps points per channel, oldest first, until deleted or set aside, across a reopen', () => {
    t.store.queuePoints('a', ['p1', 'p2', 'p3']);
    t.store.queuePoints('b', ['q1']);
    const [p1, p2] = t.store.nextPoints('a', 2);
    expect([p1.point, p2.point]).to.deep.equal(['p1', 'p2']);
    t.store.deletePoints([p1.id]);
    t.store.setPointsAside([p2.id], 'partial write: field type conflict');
    t.store.close();
    const again = t.reopen();
    expect(again.nextPoints('a', 10).map((p) => p.point)).to.deep.equal(['p3']);
    expect(again.pointCounts('a')).to.deep.equal({ waiting: 1, setAside: 1 });
    expect(again.pointCounts('b')).to.deep.equal({ waiting: 1, setAside: 0 });
    expect(again.listSetAsidePoints('a', 5)).to.have.length(1);
    expect(again.listSetAsidePoints('a', 5)[0]).to.include({ point: 'p2', error: 'partial write: field type conflict' });
  });

  it('keeps the first send time across retries and re-sends, and lists each delivery with its queue and final times', () => {
    const result = sampleResult(1);
    t.store.recordResult(result);
    const { id } = t.store.enqueue({ destination: 'ehr', dedupeKey: result.id, resultId: result.id, build: hl7Payload });
    t.store.markSent(id, 1000);
    t.store.markRetry(id, 'no ACK', 2000, true);
    t.store.markSent(id, 3000);
    t.store.markAccepted(id, { code: 'AA' }, 3500);
    t.store.resend(id);
    t.store.markSent(id, 9000);
    t.store.markAccepted(id, { code: 'AA' }, 9100);
    const [delivery] = t.store.deliveriesOf(result.id);
    expect(delivery).to.include({ outboundId: id, destination: 'ehr', state: 'accepted', sentAt: 1000, updatedAt: 9100 });
    expect(delivery.queuedAt).to.be.a('number');
    expect(t.store.getOutbound(id)!.sentAt).to.equal(9000);
    // What the hub's turnaround page does: results-board rows straight into turnarounds.
    const [row] = t.store.listResults({ limit: 1 }).results;
    const [turnaround] = turnaroundsOf(row);
    expect(turnaround).to.include({ resultId: result.id, outboundId: id, outcome: 'accepted', at: 9100 });
  });

  it('counts held results, names the destinations with a queue, and gives each device its newest result', () => {
    for (const n of [1, 2, 3, 4]) t.store.recordResult(sampleResult(n)); // 3 is not matched: held
    const r1 = sampleResult(1);
    t.store.enqueue({ destination: 'ehr', dedupeKey: r1.id, resultId: r1.id, build: hl7Payload });
    expect(t.store.countUnmatched()).to.equal(1);
    expect(t.store.destinationsWithQueue()).to.deep.equal(['ehr']);
    const devices = t.store.lastResultPerDevice().map((d) => d.deviceId).sort();
    expect(devices).to.deep.equal(['analyser-even', 'analyser-odd']);
  });
});
