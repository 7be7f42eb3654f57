/**
 * Incremental MLLP decoder: feed it the bytes of one connection as they arrive, get back whole
 * payloads and, in stream order, MllpFrameErrors for what is not a well-formed block. An error
 * keeps the raw bytes so they can be journaled; decoding goes on at the next start byte.
 *
 * Tolerated: CR/LF between blocks, an end byte without its CR (the payload is returned as soon as
 * its end byte arrives). Reported: bytes outside a block
 * ('garbage'), a block over maxMessageBytes ('oversize', the rest of it is skipped), a start byte
 * inside a block ('unexpected-start', the new block is read), and on end() a block cut short
 * ('truncated').
 */
import { MllpFrameError } from '../errors';
import { MLLP_CR, MLLP_END, MLLP_START } from './frame';

export const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

export type MllpDecoded = Buffer | MllpFrameError;

type State = 'outside' | 'inside' | 'skipping';

export class MllpDecoder {
  private state: State = 'outside';
  private parts: Buffer[] = [];
  private size = 0;
  /** Stream offset of the current block's start byte, or of the first garbage byte. */
  private startOffset = 0;
  private garbage: Buffer[] = [];
  private garbageSize = 0;
  private garbageOffset = 0;
  private offset = 0;
  /** The CR that follows an end byte belongs to the block trailer, not to garbage. */
  private trailerCr = false;

  constructor(readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {
    if (!(maxMessageBytes > 0)) throw new RangeError('maxMessageBytes must be positive');
  }

  /** Feeds bytes; returns the payloads completed and the errors found, in stream order. */
  push(chunk: Buffer): MllpDecoded[] {
    const out: MllpDecoded[] = [];
    let i = 0;
    while (i < chunk.length) {
      switch (this.state) {
        case 'outside': {
          if (this.trailerCr) {
            this.trailerCr = false;
            if (chunk[i] === MLLP_CR) {
              i += 1;
              break;
            }
          }
          const start = chunk.indexOf(MLLP_START, i);
          const stop = start < 0 ? chunk.length : start;
          this.addGarbage(chunk.subarray(i, stop), this.offset + i, out);
          if (start < 0) {
            i = chunk.length;
          } else {
            this.flushGarbage(out);
            this.openBlock(this.offset + start);
            i = start + 1;
          }
          break;
        }
        case 'inside': {
          const end = chunk.indexOf(MLLP_END, i);
          const start = chunk.indexOf(MLLP_START, i);
          const stop = Math.min(end < 0 ? chunk.length : end, start < 0 ? chunk.length : start);
          if (!this.append(chunk.subarray(i, stop), out)) {
            i = stop; // oversize: now skipping; the bytes at stop are looked at again in that state
            break;
          }
          if (stop === chunk.length) {
            i = stop;
          } else if (chunk[stop] === MLLP_END) {
            out.push(this.closeBlock()); // at once: some senders never send the trailing CR
            this.trailerCr = true;
            i = stop + 1;
          } else {
            out.push(this.blockError('unexpected-start', 'a start byte inside a block; the unfinished block is dropped'));
            this.openBlock(this.offset + stop);
            i = stop + 1;
          }
          break;
        }
        case 'skipping': {
          const end = chunk.indexOf(MLLP_END, i);
          const start = chunk.indexOf(MLLP_START, i);
          if (start >= 0 && (end < 0 || start < end)) {
            this.openBlock(this.offset + start);
            i = start + 1;
          } else if (end >= 0) {
            this.state = 'outside';
            this.trailerCr = true;
            i = end + 1;
          } else {
            i = chunk.length;
          }
          break;
        }
      }
    }
    this.offset += chunk.length;
    this.flushGarbage(out);
    return out;
  }

  /** The peer is gone: reports a block left open (with its bytes) or pending garbage. */
  end(): MllpDecoded[] {
    const out: MllpDecoded[] = [];
    if (this.state === 'inside') out.push(this.blockError('truncated', `the connection ended inside a block of ${this.size} bytes`));
    this.flushGarbage(out);
    this.state = 'outside';
    this.trailerCr = false;
    this.parts = [];
    this.size = 0;
    return out;
  }

  /** True while a block is open (bytes of an unfinished message are held). */
  get inBlock(): boolean {
    return this.state === 'inside';
  }

  private openBlock(offset: number): void {
    this.state = 'inside';
    this.parts = [];
    this.size = 0;
    this.startOffset = offset;
  }

  private closeBlock(): Buffer {
    const payload = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    this.state = 'outside';
    return payload;
  }

  /** Adds payload bytes; false (and an error out) when the block grows past the limit. */
  private append(bytes: Buffer, out: MllpDecoded[]): boolean {
    if (bytes.length === 0) return true;
    const room = this.maxMessageBytes - this.size;
    if (bytes.length <= room) {
      this.parts.push(Buffer.from(bytes)); // copy: the socket may reuse its chunk
      this.size += bytes.length;
      return true;
    }
    this.parts.push(Buffer.from(bytes.subarray(0, room)));
    this.size += room;
    out.push(this.blockError('oversize', `a block over ${this.maxMessageBytes} bytes; its first bytes are kept, the rest skipped`));
    this.state = 'skipping';
    return false;
  }

  private blockError(reason: 'unexpected-start' | 'truncated' | 'oversize', detail: string): MllpFrameError {
    const raw = Buffer.concat([Buffer.of(MLLP_START), ...this.parts]);
    this.parts = [];
    this.size = 0;
    return new MllpFrameError(reason, raw, this.startOffset, detail);
  }

  private addGarbage(bytes: Buffer, offset: number, out: MllpDecoded[]): void {
    if (bytes.length === 0) return;
    if (this.garbageSize === 0) {
      if (isBlank(bytes)) return; // CR/LF after a block: some senders add them
      this.garbageOffset = offset;
    }
    this.garbage.push(Buffer.from(bytes));
    this.garbageSize += bytes.length;
    if (this.garbageSize >= this.maxMessageBytes) this.flushGarbage(out);
  }

  private flushGarbage(out: MllpDecoded[]): void {
    if (this.garbageSize === 0) return;
    const raw = Buffer.concat(this.garbage, this.garbageSize);
    this.garbage = [];
    this.garbageSize = 0;
    out.push(new MllpFrameError('garbage', raw, this.garbageOffset, `${raw.length} bytes outside an MLLP block`));
  }
}

function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0x0d && b !== 0x0a) return false;
  return true;
}
