/**
 * E1381 (LIS01-A2) control characters. Names as in the standard, so the state machine reads
 * like it.
 */
export const SOH = 0x01;
export const STX = 0x02;
export const ETX = 0x03;
export const EOT = 0x04;
export const ENQ = 0x05;
export const ACK = 0x06;
export const LF = 0x0a;
export const CR = 0x0d;
export const DLE = 0x10;
export const DC1 = 0x11;
export const DC4 = 0x14;
export const NAK = 0x15;
export const SYN = 0x16;
export const ETB = 0x17;

/**
 * Characters the standard never allows in frame text. LF is deliberately absent: it is on the
 * standard's list, but a device that ends its records with CR LF would otherwise have every frame
 * refused six times and lose the message; a stray LF harms nothing (the record parser drops it).
 * STX, ETX and ETB are handled by the frame reader itself.
 */
export function isTextCharacterError(byte: number): boolean {
  return byte === SOH || byte === EOT || byte === ENQ || byte === ACK || byte === DLE || byte === NAK || byte === SYN || (byte >= DC1 && byte <= DC4);
}

const NAMES: Record<number, string> = { [STX]: 'STX', [ETX]: 'ETX', [EOT]: 'EOT', [ENQ]: 'ENQ', [ACK]: 'ACK', [NAK]: 'NAK', [ETB]: 'ETB', [CR]: 'CR', [LF]: 'LF' };

/** A byte as a readable token for logs and test messages: `<ENQ>`, `A`, `<0x1f>`. */
export function byteName(byte: number): string {
  const name = NAMES[byte];
  if (name) return `<${name}>`;
  if (byte >= 0x20 && byte < 0x7f) return String.fromCharCode(byte);
  return `<0x${byte.toString(16).padStart(2, '0')}>`;
}
