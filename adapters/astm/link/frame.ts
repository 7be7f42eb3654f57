/**
 * Building frames for the sender: `STX FN text ETB|ETX C1 C2 CR LF`. Each record starts a new
 * frame; a record longer than the maximum text size is split across ETB frames, its last frame
 * (which holds the record's own CR) ends with ETX. FN runs 1…7, 0, 1… across the whole transfer.
 */
import { checksumText } from './checksum';
import { CR, ETB, ETX, LF, STX } from './control';

/** The 1995 edition's frame is 247 characters: 240 of text plus STX, FN, ETX, C1, C2, CR, LF. */
export const DEFAULT_MAX_FRAME_TEXT = 240;

export interface OutgoingFrame {
  /** 0…7 */
  frameNumber: number;
  /** Last frame of its record (ETX) or an intermediate one (ETB). */
  final: boolean;
  /** The text between FN and the terminator. */
  text: Buffer;
  /** The whole frame as sent. */
  bytes: Buffer;
}

/** One frame's bytes. */
export function encodeFrame(frameNumber: number, text: Uint8Array, final: boolean): Buffer {
  if (!Number.isInteger(frameNumber) || frameNumber < 0 || frameNumber > 7) throw new RangeError('frame number must be 0…7');
  const terminator = final ? ETX : ETB;
  const body = Buffer.concat([Buffer.from([0x30 + frameNumber]), text]);
  const checksum = Buffer.from(checksumText(body, terminator), 'latin1');
  return Buffer.concat([Buffer.from([STX]), body, Buffer.from([terminator]), checksum, Buffer.from([CR, LF])]);
}

/**
 * Splits message text (records each ending with CR) into the frames of one transfer, the first
 * numbered 1. A final record without its CR gets one: the receiver splits records on it.
 */
export function buildFrames(message: Uint8Array, maxText = DEFAULT_MAX_FRAME_TEXT): OutgoingFrame[] {
  if (!Number.isInteger(maxText) || maxText < 1) throw new RangeError('maximum frame text must be a positive integer');
  const frames: OutgoingFrame[] = [];
  let start = 0;
  while (start < message.length) {
    let end = indexOfByte(message, CR, start);
    end = end < 0 ? message.length : end + 1;
    let record = Buffer.from(message.subarray(start, end));
    start = end;
    // A blank line is not a record: sending it would give the receiver an empty one.
    if (record.length === 0 || (record.length === 1 && record[0] === CR)) continue;
    if (record[record.length - 1] !== CR) record = Buffer.concat([record, Buffer.from([CR])]);
    for (let offset = 0; offset < record.length; offset += maxText) {
      const text = record.subarray(offset, Math.min(offset + maxText, record.length));
      const final = offset + maxText >= record.length;
      const frameNumber = (frames.length + 1) % 8;
      frames.push({ frameNumber, final, text, bytes: encodeFrame(frameNumber, text, final) });
    }
  }
  return frames;
}

function indexOfByte(bytes: Uint8Array, value: number, from: number): number {
  for (let i = from; i < bytes.length; i += 1) if (bytes[i] === value) return i;
  return -1;
}
