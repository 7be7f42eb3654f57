/**
 * beforeFinalAck: the ACK of a message's terminator frame waits for the hook (the journal write),
 * and a failing hook makes the frame NAK so the instrument sends it again. Fake clock, no sleeps.
 */
import { expect } from 'chai';
import type { TransferSegment } from '../../../adapters/astm';
import { BYTE, frameBytes, harness } from './helpers';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Lets the hook's promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('astm link: beforeFinalAck', () => {
  it('defers the ACK of the terminator frame until the hook resolves, holding what arrives meanwhile', async () => {
    const segments: TransferSegment[] = [];
    const pending = deferred();
    const h = harness({ beforeFinalAck: (segment) => { segments.push(segment); return pending.promise; } });
    h.feed([BYTE.ENQ]);
    expect(h.take()).to.deep.equal([BYTE.ACK]);
    h.feed(frameBytes(1, 'H|\\^&|||dev\r'));
    h.feed(frameBytes(2, 'R|1|^^^GLU|5.4|mmol/L\r'));
    expect(h.take()).to.deep.equal([BYTE.ACK, BYTE.ACK], 'ordinary frames are acknowledged at once');
    const last = frameBytes(3, 'L|1|N\r', { trailer: '' });
    h.feed(last);
    expect(h.take()).to.deep.equal([], 'no ACK before the hook resolves');
    expect(segments).to.have.length(1);
    expect(segments[0].text.toString('latin1')).to.equal('H|\\^&|||dev\rR|1|^^^GLU|5.4|mmol/L\rL|1|N\r');
    expect(segments[0].raw[0]).to.equal(BYTE.ENQ);
    expect(segments[0].raw.subarray(segments[0].raw.length - last.length).equals(last)).to.equal(true, 'raw runs through the checksum of the terminator frame');
    h.feed('\r\n');
    h.feed([BYTE.EOT]);
    h.clock.advance(29_000); // silence while the hook runs is not the sender's: no receive timeout
    expect(h.incomplete).to.have.length(0);
    expect(h.messages).to.have.length(0);
    pending.resolve();
    await settle();
    expect(h.take()).to.deep.equal([BYTE.ACK]);
    expect(h.messages).to.have.length(1, 'the EOT held back is read after the ACK');
    expect(h.messages[0].text.toString('latin1')).to.equal(segments[0].text.toString('latin1'));
    expect(h.messages[0].unconfirmed!.text.length).to.equal(0);
    expect(h.messages[0].unconfirmed!.raw.toString('latin1')).to.equal('\r\n\x04');
    expect(h.link.state).to.equal('idle');
  });

  it('answers NAK when the hook rejects and accepts the same frame again as new', async () => {
    const outcomes = [deferred(), deferred()];
    const segments: TransferSegment[] = [];
    const h = harness({ beforeFinalAck: (segment) => { segments.push(segment); return outcomes[segments.length - 1].promise; } });
    h.feed([BYTE.ENQ]);
    h.feed(frameBytes(1, 'H|\\^&\r'));
    h.take();
    const last = frameBytes(2, 'L|1|N\r');
    h.feed(last);
    outcomes[0].reject(new Error('disk full'));
    await settle();
    expect(h.take()).to.deep.equal([BYTE.NAK]);
    h.feed(last);
    expect(segments).to.have.length(2, 'the repeat is a new frame, not a duplicate');
    expect(segments[1].text.toString('latin1')).to.equal('H|\\^&\rL|1|N\r', 'the refused frame was forgotten, kept once');
    outcomes[1].resolve();
    await settle();
    expect(h.take()).to.deep.equal([BYTE.ACK]);
    h.feed([BYTE.EOT]);
    expect(h.messages.map((m) => m.text.toString('latin1'))).to.deep.equal(['H|\\^&\rL|1|N\r']);
  });

  it('refuses the frame (NAK) when the hook has not settled within the receive timeout, and ignores its late answer', async () => {
    const late = deferred();
    let calls = 0;
    const h = harness({ receiveTimeoutMs: 15_000, beforeFinalAck: () => { calls += 1; return calls === 1 ? late.promise : Promise.resolve(); } });
    h.feed([BYTE.ENQ]);
    h.feed(frameBytes(1, 'H|\\^&\rL|1|N\r'));
    expect(h.take()).to.deep.equal([BYTE.ACK]);
    h.clock.advance(15_000);
    expect(h.take()).to.deep.equal([BYTE.NAK]);
    late.resolve();
    await settle();
    expect(h.take()).to.deep.equal([], 'the late answer changes nothing');
    h.feed(frameBytes(1, 'H|\\^&\rL|1|N\r'));
    await settle();
    expect(h.take()).to.deep.equal([BYTE.ACK]);
    h.feed([BYTE.EOT]);
    expect(h.messages.map((m) => m.text.toString('latin1'))).to.deep.equal(['H|\\^&\rL|1|N\r']);
  });

  it('calls the hook once per message of a transfer, and reports only the unconfirmed rest of a broken one', async () => {
    const segments: string[] = [];
    const h = harness({ beforeFinalAck: async (segment) => { segments.push(segment.text.toString('latin1')); } });
    h.feed([BYTE.ENQ]);
    h.feed(frameBytes(1, 'H|\\^&\rL|1|N\r'));
    await settle();
    h.feed(frameBytes(2, 'H|\\^&\rP|1\r'));
    await settle();
    expect(segments).to.deep.equal(['H|\\^&\rL|1|N\r']);
    expect(h.take()).to.deep.equal([BYTE.ACK, BYTE.ACK, BYTE.ACK]);
    h.clock.advance(30_000);
    expect(h.incomplete).to.have.length(1);
    expect(h.incomplete[0].reason).to.equal('timeout');
    expect(h.incomplete[0].unconfirmed!.text.toString('latin1')).to.equal('H|\\^&\rP|1\r');
  });

  it('leaves a link without the hook as it was: immediate ACK, no unconfirmed part', () => {
    const h = harness();
    h.feed([BYTE.ENQ]);
    h.feed(frameBytes(1, 'H|\\^&\rL|1|N\r'));
    h.feed([BYTE.EOT]);
    expect(h.take()).to.deep.equal([BYTE.ACK, BYTE.ACK]);
    expect(h.messages[0].unconfirmed).to.equal(undefined);
  });
});
