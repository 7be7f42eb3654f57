import { expect } from 'chai';
import { frame, MLLP_CR, MLLP_END, MLLP_START, MllpDecoder, MllpFrameError, type MllpDecoded } from '../../../adapters/hl7';

const b = (text: string) => Buffer.from(text, 'latin1');
const describeItems = (items: MllpDecoded[]) =>
  items.map((i) => (i instanceof MllpFrameError ? { error: i.reason, raw: i.raw.toString('latin1'), offset: i.offset } : { payload: i.toString('latin1') }));

describe('hl7 MLLP framing and decoder', () => {
  it('frames a payload as <VT> payload <FS><CR>', () => {
    expect([...frame(b('MSH|x'))]).to.deep.equal([MLLP_START, ...b('MSH|x'), MLLP_END, MLLP_CR]);
  });

  it('returns whole payloads however the bytes are chunked', () => {
    const stream = Buffer.concat([frame(b('first')), frame(b('second')), b('\r\n'), frame(b(''))]);
    for (let size = 1; size <= stream.length; size += 1) {
      const decoder = new MllpDecoder();
      const items: MllpDecoded[] = [];
      for (let i = 0; i < stream.length; i += size) items.push(...decoder.push(stream.subarray(i, i + size)));
      items.push(...decoder.end());
      expect(describeItems(items), `chunks of ${size}`).to.deep.equal([{ payload: 'first' }, { payload: 'second' }, { payload: '' }]);
    }
  });

  it('returns a payload as soon as its end byte arrives, even without the CR', () => {
    const decoder = new MllpDecoder();
    expect(describeItems(decoder.push(b('\x0bone\x1c')))).to.deep.equal([{ payload: 'one' }]);
    expect(describeItems(decoder.push(b('\r\x0btwo\x1c\x0bthree\x1c\r')))).to.deep.equal([{ payload: 'two' }, { payload: 'three' }]);
  });

  it('reports bytes outside a block as garbage, with their offset, and reads the block after', () => {
    const decoder = new MllpDecoder();
    const items = decoder.push(Buffer.concat([b('hello'), frame(b('msg'))]));
    expect(describeItems(items)).to.deep.equal([{ error: 'garbage', raw: 'hello', offset: 0 }, { payload: 'msg' }]);
    expect(describeItems(decoder.push(b('\r\n')))).to.deep.equal([]); // blank lines between blocks are not garbage
    expect(describeItems(decoder.push(b('\x1c\rzz')))).to.deep.equal([{ error: 'garbage', raw: '\x1c\rzz', offset: 13 }]);
  });

  it('reports a start byte inside a block, keeping the unfinished bytes, and reads the new block', () => {
    const decoder = new MllpDecoder();
    expect(describeItems(decoder.push(b('\x0bhalf\x0bwhole\x1c\r')))).to.deep.equal([{ error: 'unexpected-start', raw: '\x0bhalf', offset: 0 }, { payload: 'whole' }]);
  });

  it('reports an oversize block with its first bytes, skips the rest, and goes on', () => {
    const decoder = new MllpDecoder(10);
    const items = [...decoder.push(b('\x0b0123456789ABC')), ...decoder.push(b('DEF\x1c\r')), ...decoder.push(frame(b('0123456789')))];
    expect(describeItems(items)).to.deep.equal([{ error: 'oversize', raw: '\x0b0123456789', offset: 0 }, { payload: '0123456789' }]);
    expect((items[0] as MllpFrameError).message).to.equal('MLLP oversize: a block over 10 bytes; its first bytes are kept, the rest skipped (at byte 0)');
  });

  it('reports a block cut short when the stream ends, with its raw bytes', () => {
    const decoder = new MllpDecoder();
    expect(decoder.push(b('\x0bMSH|^~\\&|partial'))).to.deep.equal([]);
    expect(decoder.inBlock).to.equal(true);
    expect(describeItems(decoder.end())).to.deep.equal([{ error: 'truncated', raw: '\x0bMSH|^~\\&|partial', offset: 0 }]);
    expect(decoder.inBlock).to.equal(false);
    expect(decoder.end()).to.deep.equal([]);
  });

  it('bounds the garbage it holds', () => {
    const decoder = new MllpDecoder(4);
    const items = decoder.push(b('abcdefghij'));
    expect(items.every((i) => i instanceof MllpFrameError && i.reason === 'garbage')).to.equal(true);
    expect(Buffer.concat(items.map((i) => (i as MllpFrameError).raw)).toString()).to.equal('abcdefghij');
  });

  it('copies the bytes it keeps, so a reused chunk cannot change a payload', () => {
    const decoder = new MllpDecoder();
    const chunk = b('\x0babc');
    decoder.push(chunk);
    chunk.fill(0x78);
    expect(describeItems(decoder.push(b('\x1c\r')))).to.deep.equal([{ payload: 'abc' }]);
  });
});
