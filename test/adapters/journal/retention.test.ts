import { expect } from 'chai';
import { hl7Payload, openTempStore, sampleResult, type OpenedStore } from './helpers';

const LATER = () => Date.now() + 60_000;

describe('journal store: retention', () => {
  let t: OpenedStore;
  beforeEach(() => { t = openTempStore(); });
  afterEach(() => t.cleanup());

  /** One result's worth of rows, its outbound message left in `state`. */
  function seed(n: number, state: 'accepted' | 'dead' | 'pending' | 'sent' | 'waiting', publish: 'published' | 'unpublished' = 'published') {
    const result = sampleResult(n);
    const inboundId = t.store.journalInbound({ channel: 'c', contentType: 'x', raw: Buffer.alloc(2000, n), status: 'accepted', resultId: result.id, publishTopic: 't' });
    if (publish === 'published') t.store.markPublished(inboundId);
    t.store.recordResult(result, inboundId);
    const { id } = t.store.enqueue({ destination: 'ehr', dedupeKey: result.id, resultId: result.id, inboundId, build: hl7Payload });
    if (state !== 'pending') t.store.markSent(id, 1);
    if (state === 'accepted') t.store.markAccepted(id, { code: 'AA' }, 2);
    if (state === 'dead') t.store.markDead(id, 'AR', 2);
    if (state === 'waiting') t.store.markRetry(id, 'AE', 10, true);
    return { inboundId, outboundId: id, resultId: result.id };
  }

  it('keeps everything younger than maxAgeMs', () => {
    seed(1, 'accepted');
    expect(t.store.prune({ maxAgeMs: 3_600_000 }, Date.now())).to.deep.equal({ inbound: 0, outbound: 0, results: 0, orders: 0 });
  });

  it('removes old final rows but never a live message, an unpublished entry, nor what a live message came from', () => {
    const done = seed(1, 'accepted');
    const dead = seed(2, 'dead');
    const pending = seed(3, 'pending');
    const sent = seed(4, 'sent');
    const waiting = seed(5, 'waiting');
    const unpublished = seed(6, 'accepted', 'unpublished');
    const rejected = t.store.journalInbound({ channel: 'c', contentType: 'x', raw: Buffer.from('bad'), status: 'rejected', error: 'not HL7' });

    const pruned = t.store.prune({ maxAgeMs: 1000 }, LATER());
    expect(pruned).to.deep.equal({ inbound: 3, outbound: 3, results: 3, orders: 0 });

    for (const gone of [done, dead]) {
      expect(t.store.getOutbound(gone.outboundId)).to.equal(undefined);
      expect(t.store.getInbound(gone.inboundId)).to.equal(undefined);
    }
    expect(t.store.getInbound(rejected)).to.equal(undefined);
    for (const live of [pending, sent, waiting]) {
      expect(t.store.getOutbound(live.outboundId)?.state).to.be.oneOf(['pending', 'sent', 'waiting']);
      expect(t.store.getInbound(live.inboundId), 'the bytes a live message came from').to.not.equal(undefined);
    }
    expect(t.store.getInbound(unpublished.inboundId)?.publishedAt).to.equal(undefined);
    expect(t.store.getOutbound(unpublished.outboundId)).to.equal(undefined);
    const kept = t.store.listResults({ limit: 10 }).results.map((r) => r.id);
    expect(kept).to.deep.equal([waiting.resultId, sent.resultId, pending.resultId]);
  });

  it('shrinks to maxBytes by forgetting the oldest first, keeping live rows', () => {
    const live = seed(0, 'waiting');
    const seeded = [];
    for (let n = 1; n <= 400; n++) seeded.push(seed(n, 'accepted'));
    const before = t.store.info().usedBytes;
    const limit = Math.floor(before / 3);
    const pruned = t.store.prune({ maxBytes: limit }, Date.now() + 1);
    expect(t.store.info().usedBytes).to.be.at.most(limit);
    expect(pruned.inbound).to.be.greaterThan(0);
    expect(pruned.outbound).to.be.greaterThan(0);
    expect(t.store.getOutbound(live.outboundId)?.state).to.equal('waiting');
    expect(t.store.getInbound(live.inboundId)).to.not.equal(undefined);
    // Oldest went first: what remains is a contiguous run of the newest.
    const remaining = seeded.filter((s) => t.store.getInbound(s.inboundId) !== undefined);
    expect(remaining.length).to.be.greaterThan(0).and.lessThan(400);
    expect(remaining).to.deep.equal(seeded.slice(seeded.length - remaining.length));
    expect(t.store.getOutbound(seeded[399].outboundId)?.state).to.equal('accepted');
  });

  it('does nothing without a policy, and keeps minting new ids after pruning everything', () => {
    const first = seed(1, 'accepted');
    expect(t.store.prune({}, LATER())).to.deep.equal({ inbound: 0, outbound: 0, results: 0, orders: 0 });
    t.store.prune({ maxAgeMs: 0 }, LATER());
    expect(t.store.listOutbound({ limit: 10 })).to.deep.equal([]);
    const next = t.store.enqueue({ destination: 'ehr', dedupeKey: 'again', build: hl7Payload });
    expect(next.id).to.be.greaterThan(first.outboundId);
  });
});
