/**
 * E1381 receiver rules, one test per rule, on a fake clock (no test sleeps). Frames are written
 * by hand with a checksum computed here, not by the adapter's own frame builder.
 */
import { expect } from 'chai';
import { checksumText, checksumValue, ETB, ETX } from '../../../adapters/astm';
import { BYTE, frameBytes, harness, referenceChecksum } from './helpers';

const { ACK, NAK, EOT, ENQ, STX } = BYTE;

/** A receiver that has answered ENQ. */
function receiving(options = {}) {
  const h = harness(options);
  h.feed([ENQ]);
  expect(h.take()).to.deep.equal([ACK]);
  return h;
}

describe('astm link: receiver (E1381, fake clock)', () => {
  it('answers ENQ with ACK, and with NAK while busy', () => {
    const h = harness();
    h.link.setBusy(true);
    h.feed([ENQ]);
    expect(h.take()).to.deep.equal([NAK]);
    expect(h.link.state).to.equal('idle');
    h.link.setBusy(false);
    h.feed([ENQ]);
    expect(h.take()).to.deep.equal([ACK]);
    expect(h.link.state).to.equal('receiving');
  });

  it('ignores everything but ENQ while neutral', () => {
    const h = harness();
    h.feed(Buffer.concat([Buffer.from([ACK, NAK, EOT, 0x41]), frameBytes(1, 'H|\\^&\r')]));
    expect(h.out).to.deep.equal([]);
    expect(h.frames).to.have.length(0);
  });

  it('checksum: FN through ETX inclusive, mod 256, two uppercase hex digits (a sum of 122 is 7A)', () => {
    // '1' (49) + 'F' (70) + ETX (3) = 122.
    expect(checksumText(Buffer.from('1F'), ETX)).to.equal('7A');
    expect(checksumValue(Buffer.from('1F'), ETX)).to.equal(122);
    // Wraps modulo 256, pads to two digits.
    expect(checksumText(Buffer.from('1' + '\xff'.repeat(3), 'latin1'), ETX)).to.equal(((49 + 3 * 255 + 3) % 256).toString(16).toUpperCase().padStart(2, '0'));
    const h = receiving();
    h.feed(Buffer.concat([Buffer.from([STX]), Buffer.from('1F'), Buffer.from([ETX]), Buffer.from('7A\r\n')]));
    expect(h.take()).to.deep.equal([ACK]);
  });

  it('ETB frames are checksummed with ETB, not as if they ended with ETX (the pitfall)', () => {
    const text = 'R|1|^^^WBC|8.5';
    const right = referenceChecksum(1, text, BYTE.ETB);
    const wrong = referenceChecksum(1, text, BYTE.ETX);
    expect(right).to.not.equal(wrong);
    expect(checksumText(Buffer.from(`1${text}`), ETB)).to.equal(right);

    const h = receiving();
    h.feed(frameBytes(1, text, { final: false, checksum: wrong }));
    expect(h.take()).to.deep.equal([NAK]);
    expect(h.frames[0]).to.include({ outcome: 'rejected', reason: 'checksum', final: false });
    h.feed(frameBytes(1, text, { final: false, checksum: right }));
    expect(h.take()).to.deep.equal([ACK]);
    expect(h.frames[1]).to.include({ outcome: 'accepted', frameNumber: 1, final: false });
  });

  it('joins ETB frames until ETX and splits records where the frames broke, not where they began', () => {
    const h = receiving();
    h.feed(frameBytes(1, 'H|\\^&|||Dev\rP|1\rR|1|^^', { final: false }));
    h.feed(frameBytes(2, '^WBC|8.5|10*3/uL\rR|2|^^^HGB|14', { final: false }));
    h.feed(frameBytes(3, '.0|g/dL\rL|1|N\r'));
    h.feed([EOT]);
    expect(h.take()).to.deep.equal([ACK, ACK, ACK]);
    expect(h.messages).to.have.length(1);
    expect(h.messages[0].text.toString('latin1')).to.equal('H|\\^&|||Dev\rP|1\rR|1|^^^WBC|8.5|10*3/uL\rR|2|^^^HGB|14.0|g/dL\rL|1|N\r');
    expect(h.messages[0].frames).to.equal(3);
  });

  it('frame numbers run 1…7, 0, 1… (wrap 7 → 0)', () => {
    const h = receiving();
    const numbers = [1, 2, 3, 4, 5, 6, 7, 0, 1, 2];
    numbers.forEach((fn, i) => h.feed(frameBytes(fn, `R|${i + 1}\r`)));
    h.feed([EOT]);
    expect(h.take()).to.deep.equal(numbers.map(() => ACK));
    expect(h.frames.map((f) => f.frameNumber)).to.deep.equal(numbers);
    expect(h.messages[0].text.toString()).to.equal(numbers.map((_, i) => `R|${i + 1}\r`).join(''));
  });

  it('a repeated frame (the sender missed our ACK) is acknowledged again and kept once', () => {
    const h = receiving();
    h.feed(frameBytes(1, 'H|\\^&\r'));
    h.feed(frameBytes(2, 'R|1\r'));
    h.feed(frameBytes(2, 'R|1\r'));
    h.feed(frameBytes(3, 'L|1\r'));
    h.feed([EOT]);
    expect(h.take()).to.deep.equal([ACK, ACK, ACK, ACK]);
    expect(h.frames.map((f) => f.outcome)).to.deep.equal(['accepted', 'accepted', 'duplicate', 'accepted']);
    expect(h.messages[0].text.toString()).to.equal('H|\\^&\rR|1\rL|1\r');
    expect(h.messages[0].frames).to.equal(3);
  });

  it('a frame number that is neither the last accepted nor the next is refused (NAK)', () => {
    const h = receiving();
    h.feed(frameBytes(2, 'H|\\^&\r')); // the first frame must be 1
    expect(h.take()).to.deep.equal([NAK]);
    h.feed(frameBytes(1, 'H|\\^&\r'));
    h.feed(frameBytes(3, 'R|1\r')); // skips 2
    expect(h.take()).to.deep.equal([ACK, NAK]);
    expect(h.frames.filter((f) => f.outcome === 'rejected').map((f) => f.reason)).to.deep.equal(['frame-number', 'frame-number']);
    h.feed(frameBytes(2, 'R|1\r'));
    h.feed([EOT]);
    expect(h.take()).to.deep.equal([ACK]);
    expect(h.messages[0].text.toString()).to.equal('H|\\^&\rR|1\r');
  });

  it('a bad checksum is refused (NAK); the same frame resent correctly is accepted', () => {
    const h = receiving();
    h.feed(frameBytes(1, 'H|\\^&\r', { checksum: '00' }));
    h.feed(frameBytes(1, 'H|\\^&\r', { checksum: 'ZZ' }));
    expect(h.take()).to.deep.equal([NAK, NAK]);
    h.feed(frameBytes(1, 'H|\\^&\r'));
    expect(h.take()).to.deep.equal([ACK]);
    // Lowercase hexadecimal is read too.
    h.feed(frameBytes(2, 'L|1|N\r', { checksum: referenceChecksum(2, 'L|1|N\r', BYTE.ETX).toLowerCase() }));
    expect(h.take()).to.deep.equal([ACK]);
  });

  it('ignores characters before STX and after the checksum', () => {
    const h = receiving();
    h.feed(Buffer.concat([Buffer.from('noise\r\n\x00\xff', 'latin1'), frameBytes(1, 'H|\\^&\r', { trailer: '\r\nXYZ\x7f' }), Buffer.from('junk'), frameBytes(2, 'L|1\r')]));
    h.feed([EOT]);
    expect(h.take()).to.deep.equal([ACK, ACK]);
    expect(h.messages[0].text.toString()).to.equal('H|\\^&\rL|1\r');
  });

  it('tolerates a missing LF (CR-only trailer), a missing CR (LF-only) and no trailer at all', () => {
    const h = receiving();
    h.feed(frameBytes(1, 'H|\\^&\r', { trailer: '\r' }));
    h.feed(frameBytes(2, 'P|1\r', { trailer: '\n' }));
    h.feed(frameBytes(3, 'L|1\r', { trailer: '' }));
    h.feed([EOT]);
    expect(h.take()).to.deep.equal([ACK, ACK, ACK]);
    expect(h.messages[0].text.toString()).to.equal('H|\\^&\rP|1\rL|1\r');
  });

  it('accepts frames up to 64,000 characters of text and refuses a longer one', () => {
    const h = receiving();
    const big = `M|1|${'x'.repeat(64_000 - 5)}\r`;
    expect(big).to.have.length(64_000);
    h.feed(frameBytes(1, big));
    expect(h.take()).to.deep.equal([ACK]);
    h.feed(frameBytes(2, `${big}y`));
    expect(h.take()).to.deep.equal([NAK]);
    expect(h.frames[1]).to.include({ outcome: 'rejected', reason: 'too-long' });
    const small = harness({ maxReceiveFrame: 100 });
    small.feed([ENQ]);
    small.feed(frameBytes(1, 'x'.repeat(101)));
    expect(small.take()).to.deep.equal([ACK, NAK]);
  });

  it('refuses a frame with a character the text may not hold (character error)', () => {
    for (const bad of ['\x01', '\x04', '\x05', '\x06', '\x10', '\x15', '\x16', '\x11', '\x14']) {
      const h = receiving();
      h.feed(frameBytes(1, `H|\\^&${bad}\r`));
      expect(h.take(), `byte ${bad.charCodeAt(0)}`).to.deep.equal([NAK]);
      expect(h.frames[0].reason).to.equal('character');
    }
    // A frame number that is not a digit 0-7 is a format error.
    const h = receiving();
    h.feed(Buffer.concat([Buffer.from([STX]), Buffer.from('9H'), Buffer.from([BYTE.ETX]), Buffer.from(referenceChecksum(9, 'H', BYTE.ETX)), Buffer.from('\r\n')]));
    expect(h.take()).to.deep.equal([NAK]);
    expect(h.frames[0].reason).to.equal('format');
  });

  it('ends a record at ETX even when the device left out its CR', () => {
    const h = receiving();
    h.feed(frameBytes(1, 'H|\\^&'));
    h.feed(frameBytes(2, 'R|1|^^^A|', { final: false }));
    h.feed(frameBytes(3, '1'));
    h.feed(frameBytes(4, 'L|1|N\r\n'));
    h.feed([EOT]);
    expect(h.messages[0].text.toString()).to.equal('H|\\^&\rR|1|^^^A|1\rL|1|N\r\n');
  });

  it('drops a frame cut short by a new STX and reads the new one', () => {
    const h = receiving();
    h.feed(Buffer.concat([Buffer.from([STX]), Buffer.from('1H|\\^'), frameBytes(1, 'H|\\^&\r')]));
    h.feed([EOT]);
    expect(h.take()).to.deep.equal([ACK]);
    expect(h.frames.map((f) => f.outcome)).to.deep.equal(['rejected', 'accepted']);
    expect(h.messages[0].text.toString()).to.equal('H|\\^&\r');
  });

  it('receiver interrupt: answers EOT instead of ACK when asked, and still keeps the frames', () => {
    const h = receiving();
    h.feed(frameBytes(1, 'H|\\^&\r'));
    h.link.requestInterrupt();
    h.feed(frameBytes(2, 'P|1\r'));
    expect(h.take()).to.deep.equal([ACK, EOT]);
    h.feed([EOT]); // the sender honours it
    expect(h.messages).to.have.length(1);
    expect(h.messages[0]).to.include({ interrupted: true, frames: 2 });
    expect(h.messages[0].text.toString()).to.equal('H|\\^&\rP|1\r');
    // The next transfer starts without the interrupt.
    h.feed([ENQ]);
    h.feed(frameBytes(1, 'H|\\^&\r'));
    expect(h.take()).to.deep.equal([ACK, ACK]);
  });

  it('receive timer: 30 s of silence discards the incomplete message and reports it with its raw bytes', () => {
    const h = receiving();
    const first = frameBytes(1, 'H|\\^&\r');
    h.feed(first);
    expect(h.take()).to.deep.equal([ACK]);
    h.clock.advance(29_999);
    expect(h.incomplete).to.have.length(0);
    h.clock.advance(1);
    expect(h.incomplete).to.have.length(1);
    expect(h.incomplete[0].reason).to.equal('timeout');
    expect(h.incomplete[0].raw).to.deep.equal(Buffer.concat([Buffer.from([ENQ]), first]));
    expect(h.incomplete[0].text.toString()).to.equal('H|\\^&\r');
    expect(h.link.state).to.equal('idle');
    expect(h.messages).to.have.length(0);
    // Back to neutral: a frame now is noise, EOT completes nothing.
    h.feed(Buffer.concat([frameBytes(2, 'L|1\r'), Buffer.from([EOT])]));
    expect(h.take()).to.deep.equal([]);
    expect(h.messages).to.have.length(0);
  });

  it('receive timer is a per-device setting and measures silence, not how long a frame takes', () => {
    const h = receiving({ receiveTimeoutMs: 15_000 });
    const frame = frameBytes(1, `M|1|${'x'.repeat(2000)}\r`);
    // A slow line: the frame trickles in over 60 s, never 15 s silent.
    for (let i = 0; i < frame.length; i += 100) {
      h.feed(frame.subarray(i, i + 100));
      h.clock.advance(2_900);
    }
    expect(h.incomplete).to.have.length(0);
    expect(h.take()).to.deep.equal([ACK]);
    h.clock.advance(14_999 - 2_900);
    expect(h.incomplete).to.have.length(0);
    h.clock.advance(1);
    expect(h.incomplete.map((m) => m.reason)).to.deep.equal(['timeout']);
  });

  it('EOT completes the message; ENQ then EOT with no frame is not a message', () => {
    const h = receiving();
    h.feed([EOT]);
    expect(h.messages).to.have.length(0);
    expect(h.link.state).to.equal('idle');
    h.feed([ENQ]);
    h.feed(frameBytes(1, 'H|\\^&\r'));
    h.feed([EOT]);
    expect(h.messages).to.have.length(1);
    expect(h.messages[0].raw[0]).to.equal(ENQ);
    expect(h.messages[0].raw[h.messages[0].raw.length - 1]).to.equal(EOT);
    expect(h.clock.pendingTimers).to.equal(0);
  });

  it('ENQ during a transfer: the stale transfer is reported and the new one acknowledged', () => {
    const h = receiving();
    h.feed(frameBytes(1, 'H|\\^&\r'));
    h.feed([ENQ]);
    expect(h.take()).to.deep.equal([ACK, ACK]);
    expect(h.incomplete.map((m) => m.reason)).to.deep.equal(['restarted']);
    h.feed([ENQ]); // a lone ENQ again (our ACK was lost): nothing lost, nothing reported
    expect(h.take()).to.deep.equal([ACK]);
    expect(h.incomplete).to.have.length(1);
    h.feed(frameBytes(1, 'H|\\^&|||again\r'));
    h.feed([EOT]);
    expect(h.messages[0].text.toString()).to.equal('H|\\^&|||again\r');
  });

  it('lenient frame numbering takes renumbered frames; only an identical repeat is a duplicate', () => {
    const h = receiving({ frameNumbers: 'lenient' });
    for (const [fn, text] of [[1, 'H|\\^&\r'], [5, 'M|1\r'], [5, 'M|1\r'], [1, 'M|2\r'], [1, 'M|3\r'], [4, 'L|1\r']] as const) h.feed(frameBytes(fn, text));
    h.feed([EOT]);
    expect(h.take()).to.deep.equal([ACK, ACK, ACK, ACK, ACK, ACK]);
    expect(h.frames.map((f) => f.outcome)).to.deep.equal(['accepted', 'accepted', 'duplicate', 'accepted', 'accepted', 'accepted']);
    expect(h.frames[1].outOfSequence).to.equal(true);
    expect(h.messages[0].text.toString()).to.equal('H|\\^&\rM|1\rM|2\rM|3\rL|1\r');
  });

  it('discards a transfer larger than maxMessageBytes and reports it', () => {
    const h = receiving({ maxMessageBytes: 1000 });
    for (let fn = 1; fn <= 8; fn += 1) h.feed(frameBytes(fn % 8, `R|${'x'.repeat(200)}\r`));
    expect(h.incomplete.map((m) => m.reason)).to.deep.equal(['too-large']);
    expect(h.incomplete[0].raw.length).to.equal(1000);
    expect(h.link.state).to.equal('idle');
  });

  it('close() reports a transfer in progress and stops every timer (and bids for nothing queued)', () => {
    const h = receiving();
    h.link.send('H|\\^&\rL|1|N\r', 'queued');
    h.feed(frameBytes(1, 'H|\\^&\r'));
    expect(h.take()).to.deep.equal([ACK]);
    h.link.close();
    expect(h.take()).to.deep.equal([]); // no ENQ on a line that is closing
    expect(h.failed).to.deep.equal([{ id: 'queued', reason: 'closed', frames: 2 }]);
    expect(h.incomplete.map((m) => m.reason)).to.deep.equal(['closed']);
    expect(h.clock.pendingTimers).to.equal(0);
    h.feed([ENQ]);
    expect(h.take()).to.deep.equal([]);
  });
});
