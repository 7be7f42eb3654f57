/**
 * E1381 sender rules and contention, on a fake clock (no test sleeps). What the sender writes is
 * read back by a small tokenizer written here, with its own checksum.
 */
import { expect } from 'chai';
import { AstmLink } from '../../../adapters/astm';
import { BYTE, FakeClock, harness, referenceChecksum, wire } from './helpers';

const { ACK, NAK, EOT, ENQ, STX, ETX, ETB, CR, LF } = BYTE;

type Token = 'ENQ' | 'EOT' | 'ACK' | 'NAK' | { fn: number; text: string; final: boolean; checksumOk: boolean; trailer: string };

/** What a sender wrote, as control characters and frames. */
function tokens(bytes: number[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    if (b === ENQ) out.push('ENQ');
    else if (b === EOT) out.push('EOT');
    else if (b === ACK) out.push('ACK');
    else if (b === NAK) out.push('NAK');
    else if (b === STX) {
      let end = i + 1;
      while (bytes[end] !== ETX && bytes[end] !== ETB) end += 1;
      const fn = bytes[i + 1] - 0x30;
      const text = Buffer.from(bytes.slice(i + 2, end)).toString('latin1');
      const checksum = Buffer.from(bytes.slice(end + 1, end + 3)).toString('latin1');
      const trailer = Buffer.from(bytes.slice(end + 3, end + 5)).toString('latin1');
      out.push({ fn, text, final: bytes[end] === ETX, checksumOk: checksum === referenceChecksum(fn, text, bytes[end]), trailer });
      i = end + 5;
      continue;
    } else throw new Error(`unexpected byte ${b}`);
    i += 1;
  }
  return out;
}

const frames = (t: Token[]) => t.filter((x): x is Exclude<Token, string> => typeof x === 'object');

const MESSAGE = 'H|\\^&|||Sim\rP|1\rO|1|S1||^^^HbA1c\rR|1|^^^HbA1c|5.9|%\rL|1|N\r';

describe('astm link: sender (E1381, fake clock)', () => {
  it('ENQ, then one frame per ACK (one record per frame, FN from 1), then EOT', () => {
    const h = harness();
    const id = h.link.send(MESSAGE);
    expect(tokens(h.take())).to.deep.equal(['ENQ']);
    expect(h.link.state).to.equal('establishing');
    const records = MESSAGE.split('\r').filter(Boolean);
    const seen: Token[] = [];
    h.feed([ACK]);
    for (let i = 0; i < records.length; i += 1) {
      seen.push(...tokens(h.take()));
      h.feed([ACK]);
    }
    seen.push(...tokens(h.take()));
    expect(seen.pop()).to.equal('EOT');
    expect(seen.map((f) => typeof f === 'object' && [f.fn, f.text, f.final, f.checksumOk, f.trailer])).to.deep.equal(
      records.map((r, i) => [i + 1, `${r}\r`, true, true, '\r\n']),
    );
    expect(h.sent).to.deep.equal([id]);
    expect(h.link.state).to.equal('idle');
    expect(h.clock.pendingTimers).to.equal(0);
  });

  it('splits a long record at 240 characters of text (configurable): ETB frames, then ETX, with their own checksums', () => {
    for (const maxFrameText of [240, 50]) {
      const h = harness({ maxFrameText });
      const longRecord = `M|1|${'0123456789'.repeat(60)}`; // 604 characters + CR
      h.link.send(`H|\\^&\r${longRecord}\rL|1|N\r`);
      h.feed([ACK]);
      for (let i = 0; i < 40 && h.link.state === 'sending'; i += 1) h.feed([ACK]);
      const sent = frames(tokens(h.out));
      const pieces = Math.ceil((longRecord.length + 1) / maxFrameText);
      expect(sent).to.have.length(1 + pieces + 1);
      expect(sent.every((f) => f.checksumOk)).to.equal(true);
      expect(sent.every((f) => f.text.length <= maxFrameText)).to.equal(true);
      const middle = sent.slice(1, 1 + pieces);
      expect(middle.map((f) => f.final)).to.deep.equal([...Array(pieces - 1).fill(false), true]);
      expect(middle.map((f) => f.text).join('')).to.equal(`${longRecord}\r`);
      expect(middle[middle.length - 1].text.endsWith('\r')).to.equal(true);
      // FN runs across records and wraps 7 → 0.
      expect(sent.map((f) => f.fn)).to.deep.equal(sent.map((_, i) => (i + 1) % 8));
    }
  });

  it('NAK to ENQ (receiver busy): no new ENQ before 10 s', () => {
    const h = harness();
    h.link.send(MESSAGE);
    h.take();
    h.feed([NAK]);
    expect(h.link.state).to.equal('idle');
    h.clock.advance(9_999);
    expect(h.take()).to.deep.equal([]);
    h.clock.advance(1);
    expect(tokens(h.take())).to.deep.equal(['ENQ']);
  });

  it('no reply to ENQ within 15 s: EOT, ENQ again after 10 s, given up after maxBids attempts', () => {
    const h = harness({ maxBids: 3 });
    const id = h.link.send(MESSAGE);
    expect(tokens(h.take())).to.deep.equal(['ENQ']);
    h.clock.advance(14_999);
    expect(h.take()).to.deep.equal([]);
    h.clock.advance(1);
    expect(tokens(h.take())).to.deep.equal(['EOT']);
    h.clock.advance(10_000);
    expect(tokens(h.take())).to.deep.equal(['ENQ']);
    h.clock.advance(15_000 + 10_000);
    expect(tokens(h.take())).to.deep.equal(['EOT', 'ENQ']);
    h.clock.advance(15_000);
    expect(tokens(h.take())).to.deep.equal(['EOT']);
    expect(h.failed).to.deep.equal([{ id, reason: 'no-answer', frames: 5 }]);
    h.clock.advance(60_000);
    expect(h.take()).to.deep.equal([]);
  });

  it('NAK to a frame: the same frame, same FN, is sent again', () => {
    const h = harness();
    h.link.send(MESSAGE);
    h.feed([ACK]);
    h.feed([ACK]);
    const second = frames(tokens(h.take()));
    h.feed([NAK]);
    const again = frames(tokens(h.take()));
    expect(again).to.deep.equal([second[1]]);
    expect(again[0].fn).to.equal(2);
  });

  it('a frame refused six times aborts the transfer with EOT', () => {
    const h = harness();
    const id = h.link.send(MESSAGE);
    h.feed([ACK]);
    h.take();
    for (let i = 0; i < 5; i += 1) {
      h.feed([NAK]);
      expect(frames(tokens(h.take()))).to.have.length(1); // resent
    }
    h.feed([NAK]);
    expect(tokens(h.take())).to.deep.equal(['EOT']);
    expect(h.failed).to.deep.equal([{ id, reason: 'refused', frames: 5 }]);
    expect(h.link.state).to.equal('idle');
    expect(h.link.pending).to.equal(0);
  });

  it('no reply to a frame within 15 s aborts the transfer with EOT', () => {
    const h = harness();
    const id = h.link.send(MESSAGE);
    h.feed([ACK]);
    h.take();
    h.clock.advance(14_999);
    expect(h.take()).to.deep.equal([]);
    h.clock.advance(1);
    expect(tokens(h.take())).to.deep.equal(['EOT']);
    expect(h.failed).to.deep.equal([{ id, reason: 'timeout', frames: 5 }]);
  });

  it('receiver interrupt honoured: EOT, no ENQ for 15 s, then the whole message again', () => {
    const h = harness();
    const id = h.link.send(MESSAGE);
    h.feed([ACK]);
    h.feed([ACK]);
    h.take();
    h.feed([EOT]); // frame 2 accepted, and please stop
    expect(tokens(h.take())).to.deep.equal(['EOT']);
    expect(h.interrupted).to.deep.equal([id]);
    expect(h.link.state).to.equal('idle');
    h.clock.advance(14_999);
    expect(h.take()).to.deep.equal([]);
    h.clock.advance(1);
    expect(tokens(h.take())).to.deep.equal(['ENQ']);
    h.feed([ACK]);
    expect(frames(tokens(h.take()))[0]).to.include({ fn: 1, text: 'H|\\^&|||Sim\r' });
  });

  it('receiver interrupt on the last frame: the message is sent; no ENQ for 15 s', () => {
    const h = harness();
    const id = h.link.send(MESSAGE);
    h.link.send(MESSAGE, 'second');
    h.feed([ACK]);
    for (let i = 0; i < 4; i += 1) h.feed([ACK]);
    h.take();
    h.feed([EOT]);
    expect(tokens(h.take())).to.deep.equal(['EOT']);
    expect(h.sent).to.deep.equal([id]);
    expect(h.interrupted).to.deep.equal([]);
    h.clock.advance(14_999);
    expect(h.take()).to.deep.equal([]);
    h.clock.advance(1);
    expect(tokens(h.take())).to.deep.equal(['ENQ']);
  });

  it('receiver interrupt ignored when honourInterrupt is off: the transfer carries on', () => {
    const h = harness({ honourInterrupt: false });
    const id = h.link.send(MESSAGE);
    h.feed([ACK]);
    h.take();
    h.feed([EOT]);
    expect(frames(tokens(h.take()))[0].fn).to.equal(2);
    for (let i = 0; i < 4; i += 1) h.feed([EOT]);
    expect(h.sent).to.deep.equal([id]);
  });

  it('contention, computer side: stops, answers the instrument\'s next ENQ, bids again only after 20 s', () => {
    const h = harness({ side: 'computer' });
    h.link.send(MESSAGE);
    expect(tokens(h.take())).to.deep.equal(['ENQ']);
    h.feed([ENQ]); // the instrument bid at the same time
    expect(h.take()).to.deep.equal([]); // no answer to the contending ENQ
    expect(h.link.state).to.equal('idle');
    h.clock.advance(1_000);
    h.feed([ENQ]); // the instrument's next ENQ, at least 1 s later
    expect(h.take()).to.deep.equal([ACK]);
    h.feed(Buffer.concat([Buffer.from([STX]), Buffer.from('1L|1|N\r'), Buffer.from([ETX]), Buffer.from(referenceChecksum(1, 'L|1|N\r', ETX)), Buffer.from([CR, LF])]));
    h.feed([EOT]);
    expect(h.messages).to.have.length(1);
    expect(h.take()).to.deep.equal([ACK]); // nothing else: the contention timer runs
    h.clock.advance(18_999);
    expect(h.take()).to.deep.equal([]);
    h.clock.advance(1); // 20 s after the contention
    expect(tokens(h.take())).to.deep.equal(['ENQ']);
  });

  it('contention, instrument side: keeps priority and sends ENQ again after 1 s', () => {
    const h = harness({ side: 'instrument' });
    h.link.send(MESSAGE);
    h.take();
    h.feed([ENQ]);
    expect(h.take()).to.deep.equal([]);
    h.clock.advance(999);
    expect(h.take()).to.deep.equal([]);
    h.clock.advance(1);
    expect(tokens(h.take())).to.deep.equal(['ENQ']);
    h.feed([ACK]);
    expect(frames(tokens(h.take()))[0].fn).to.equal(1);
  });

  it('contention between two real links: the instrument\'s message goes first, the computer\'s 20 s later', () => {
    const clock = new FakeClock();
    const computer = new AstmLink({ clock, side: 'computer' });
    const instrument = new AstmLink({ clock, side: 'instrument' });
    const log: string[] = [];
    computer.on('message', (m) => log.push(`computer got ${m.text.toString().split('\r')[0]} at ${clock.now() - start}`));
    instrument.on('message', (m) => log.push(`instrument got ${m.text.toString().split('\r')[0]} at ${clock.now() - start}`));
    computer.on('contention', () => log.push('contention'));
    const start = clock.now();
    // Both bid in the same instant: each ENQ crosses the other on the line.
    const toInstrument: Buffer[] = [];
    const toComputer: Buffer[] = [];
    computer.on('output', (b) => toInstrument.push(b));
    instrument.on('output', (b) => toComputer.push(b));
    computer.send('H|\\^&|||LIS\rL|1|N\r');
    instrument.send('H|\\^&|||Analyser\rL|1|N\r');
    // From now on the wire delivers at once.
    const flush = () => {
      while (toInstrument.length > 0 || toComputer.length > 0) {
        const a = toInstrument.splice(0);
        const b = toComputer.splice(0);
        a.forEach((x) => instrument.receive(x));
        b.forEach((x) => computer.receive(x));
      }
    };
    flush();
    for (let t = 0; t < 30; t += 1) {
      clock.advance(1_000);
      flush();
    }
    expect(log).to.deep.equal(['contention', 'computer got H|\\^&|||Analyser at 1000', 'instrument got H|\\^&|||LIS at 20000']);
  });

  it('two links back to back carry a long message exactly (ETB frames, FN wrap, queue of two)', () => {
    const clock = new FakeClock();
    const sender = new AstmLink({ clock, side: 'instrument' });
    const receiver = new AstmLink({ clock });
    wire(sender, receiver);
    const got: string[] = [];
    receiver.on('message', (m) => got.push(m.text.toString('latin1')));
    const records = ['H|\\^&|||Analyser', ...Array.from({ length: 30 }, (_, i) => `R|${i + 1}|^^^T${i}|${'é'.repeat(i * 17)}|`), 'L|1|N'];
    const text = records.map((r) => `${r}\r`).join('');
    const sent: string[] = [];
    sender.on('sent', (s) => sent.push(s.id));
    sender.send(text, 'one');
    sender.send('H|\\^&\rL|1|N\r', 'two');
    expect(got).to.deep.equal([text, 'H|\\^&\rL|1|N\r']);
    expect(sent).to.deep.equal(['one', 'two']);
    expect(clock.pendingTimers).to.equal(0);
  });

  it('close() fails the queued messages and stops every timer', () => {
    const h = harness();
    h.link.send(MESSAGE, 'a');
    h.link.send(MESSAGE, 'b');
    h.link.close();
    expect(h.failed.map((f) => [f.id, f.reason])).to.deep.equal([['a', 'closed'], ['b', 'closed']]);
    expect(h.clock.pendingTimers).to.equal(0);
    expect(() => h.link.send(MESSAGE)).to.throw(/closed/);
  });

  it('refuses bad settings with the setting\'s name', () => {
    expect(() => new AstmLink({ receiveTimeoutMs: -1 })).to.throw(/receiveTimeoutMs/);
    expect(() => new AstmLink({ maxRefusals: 0 })).to.throw(/maxRefusals/);
    expect(() => new AstmLink({ frameNumbers: 'loose' as 'strict' })).to.throw(/frameNumbers/);
    expect(() => new AstmLink({ recieveTimeoutMs: 1 } as never)).to.throw(/unknown link setting recieveTimeoutMs/);
  });
});
