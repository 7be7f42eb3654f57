/** MLLP (HL7 v2 Minimal Lower Layer Protocol, release 2): <VT> payload <FS><CR>. */
export const MLLP_START = 0x0b;
export const MLLP_END = 0x1c;
export const MLLP_CR = 0x0d;

/** Wraps one HL7 message (bytes, already encoded in its charset) in an MLLP block. */
export function frame(payload: Buffer): Buffer {
  const block = Buffer.allocUnsafe(payload.length + 3);
  block[0] = MLLP_START;
  payload.copy(block, 1);
  block[payload.length + 1] = MLLP_END;
  block[payload.length + 2] = MLLP_CR;
  return block;
}
