/** Byte decoding for the readers: HPRIM files are ISO 8859-1, but the field also sends UTF-8. */

/** UTF-8 when the bytes are valid UTF-8 with some non-ASCII, else ISO 8859-1 (every byte is a character). */
export function decodeLatin1OrUtf8(bytes: Buffer): string {
  if (bytes.some((b) => b > 0x7f)) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      // not UTF-8: Latin-1 below
    }
  }
  return bytes.toString('latin1');
}

export const ANY_LINE_BREAK = /\r\n|\r|\n/;
