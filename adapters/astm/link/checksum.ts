/**
 * The frame checksum: the sum of the bytes from the frame number through ETB or ETX inclusive
 * (STX excluded), modulo 256, as two uppercase hexadecimal characters. A sum of 122 is `7A`.
 *
 * The terminator is an argument on purpose: a public implementation summed ETB frames as if they
 * ended with ETX (a difference of 0x14), and every intermediate frame it sent was refused.
 */
import { ETB, ETX } from './control';

/** Sum mod 256 of the frame number, the text and the terminator (ETB or ETX). */
export function checksumValue(frameNumberAndText: Uint8Array, terminator: typeof ETB | typeof ETX): number {
  let sum = terminator;
  for (let i = 0; i < frameNumberAndText.length; i += 1) sum += frameNumberAndText[i];
  return sum & 0xff;
}

/** The two checksum characters as sent on the wire. */
export function checksumText(frameNumberAndText: Uint8Array, terminator: typeof ETB | typeof ETX): string {
  return checksumValue(frameNumberAndText, terminator).toString(16).toUpperCase().padStart(2, '0');
}

/** The value of two received checksum characters, or -1 when they are not hexadecimal. Lowercase is accepted. */
export function parseChecksum(c1: number, c2: number): number {
  const high = hexDigit(c1);
  const low = hexDigit(c2);
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}
