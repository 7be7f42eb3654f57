/**
 * Bytes ↔ text at the MLLP boundary. MSH-18 names the character set; French sites use 8859/1
 * (Latin-1) or UNICODE UTF-8. Latin-1 cannot hold Œ, œ, typographic quotes or the euro sign, so
 * writing 8859/1 transliterates them and says how many characters it had to change.
 */
import { isUtf8 } from 'node:buffer';

/** The character sets we write (MSH-18 values of HL7 table 0211). */
export type Hl7Charset = 'UNICODE UTF-8' | '8859/1';

export interface EncodedMessage {
  bytes: Buffer;
  /** Characters not written as themselves (transliterated, dropped or written '?'). */
  replaced: number;
  /** Of those, characters written '?' because nothing close exists in the target set. */
  unmappable: number;
}

export interface DecodedMessage {
  text: string;
  /** The character set the bytes were read with: 'UNICODE UTF-8', '8859/1' or '8859/15'. */
  charset: string;
  /** MSH-18 as declared, trimmed ('' when absent or blank). */
  declared: string;
  /** True when the bytes contradict MSH-18 and were read with the set they are actually in. */
  mismatch: boolean;
}

type Decoding = 'UNICODE UTF-8' | '8859/1' | '8859/15';

const CHARSET_NAMES: Record<string, Decoding> = {
  '88591': '8859/1', ISO88591: '8859/1', ISOIR100: '8859/1', LATIN1: '8859/1', ISOLATIN1: '8859/1',
  '885915': '8859/15', ISO885915: '8859/15', ISOIR203: '8859/15', LATIN9: '8859/15',
  UNICODEUTF8: 'UNICODE UTF-8', UTF8: 'UNICODE UTF-8',
};

/** The character set an MSH-18 value names, among those we read, or undefined (blank, ASCII, unknown). */
export function charsetFromDeclared(declared: string): Decoding | undefined {
  return CHARSET_NAMES[declared.toUpperCase().replace(/[\s_\-/]/g, '')];
}

/** The set to answer in (ACK) for a declared MSH-18: Latin-1 family → 8859/1, anything else → UTF-8. */
export function toHl7Charset(declared: string): Hl7Charset {
  const decoding = charsetFromDeclared(declared);
  return decoding === '8859/1' || decoding === '8859/15' ? '8859/1' : 'UNICODE UTF-8';
}

/**
 * Reads MSH-18 straight from the bytes (the header before it is ASCII) and decodes with it.
 * Blank, absent or unknown: UTF-8 when the bytes are valid UTF-8, else Latin-1. A Latin-1
 * declaration over bytes that are valid UTF-8 with multi-byte sequences is read as UTF-8
 * (real Latin-1 text practically never forms valid UTF-8 sequences; the reverse reading would
 * turn 'é' into 'Ã©'), and a UTF-8 declaration over invalid UTF-8 is read as Latin-1, which
 * loses no byte. Both set `mismatch`. Never throws.
 */
export function decodeMessage(bytes: Buffer): DecodedMessage {
  const body = hasUtf8Bom(bytes) ? bytes.subarray(3) : bytes;
  const declared = readDeclaredCharset(body);
  const named = charsetFromDeclared(declared);
  const validUtf8 = isUtf8(body);
  let charset: Decoding;
  let mismatch = false;
  if (named === undefined) {
    charset = validUtf8 ? 'UNICODE UTF-8' : '8859/1';
  } else if (named === 'UNICODE UTF-8') {
    charset = validUtf8 ? named : '8859/1';
    mismatch = !validUtf8;
  } else {
    mismatch = validUtf8 && !isAscii(body);
    charset = mismatch ? 'UNICODE UTF-8' : named;
  }
  return { text: decodeWith(body, charset), charset, declared, mismatch };
}

/**
 * Writes text in the given set. UTF-8 is lossless (a lone surrogate, which is not text, counts
 * as replaced). 8859/1: composed first (NFC: 'e' + combining acute becomes 'é'), then each
 * character outside Latin-1 is transliterated (Œ→OE, ’→', –→-, €→EUR, narrow spaces → space,
 * letters with marks → their base letter) or written '?'.
 */
export function encodeMessage(text: string, charset: Hl7Charset): EncodedMessage {
  if (charset === 'UNICODE UTF-8') {
    const lone = text.match(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g)?.length ?? 0;
    return { bytes: Buffer.from(text, 'utf8'), replaced: lone, unmappable: lone };
  }
  let out = '';
  let replaced = 0;
  let unmappable = 0;
  for (const ch of text.normalize('NFC')) {
    if (ch.codePointAt(0)! <= 0xff) {
      out += ch;
      continue;
    }
    replaced += 1;
    const substitute = toLatin1(ch);
    if (substitute === undefined) {
      unmappable += 1;
      out += '?';
    } else {
      out += substitute;
    }
  }
  return { bytes: Buffer.from(out, 'latin1'), replaced, unmappable };
}

// Characters French text carries that Latin-1 lacks. Never map to an HL7 delimiter (| ^ ~ \ &).
const TRANSLITERATIONS: Record<string, string> = {
  'Œ': 'OE', 'œ': 'oe', 'Ÿ': 'Y', 'Š': 'S', 'š': 's', 'Ž': 'Z', 'ž': 'z',
  'Ł': 'L', 'ł': 'l', 'Đ': 'D', 'đ': 'd', 'ı': 'i', 'ƒ': 'f', 'ﬁ': 'fi', 'ﬂ': 'fl',
  '‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'", '“': '"', '”': '"', '„': '"', '‟': '"', '″': '"',
  '‹': '<', '›': '>', '≤': '<=', '≥': '>=',
  '‐': '-', '‑': '-', '‒': '-', '–': '-', '—': '-', '―': '-', '−': '-',
  '€': 'EUR', '…': '...', '™': 'TM', '•': '-',
  '\u03bc': '\u00b5', // Greek mu in units (μmol/L) → the Latin-1 micro sign
  '\u2002': ' ', '\u2003': ' ', '\u2004': ' ', '\u2005': ' ', '\u2006': ' ', '\u2007': ' ',
  '\u2008': ' ', '\u2009': ' ', '\u200a': ' ', '\u202f': ' ', // French typography puts narrow spaces before ; : ! ?
  '\u200b': '', '\u200c': '', '\u200d': '', '\u2060': '', '\ufeff': '',
};

function toLatin1(ch: string): string | undefined {
  const mapped = TRANSLITERATIONS[ch];
  if (mapped !== undefined) return mapped;
  if (/^\p{M}$/u.test(ch)) return ''; // a combining mark NFC could not compose: drop it, keep the letter
  // A letter with marks whose base letter is Latin-1 (ă → a, ț → t, ō → o).
  const [base, ...marks] = ch.normalize('NFD');
  if (marks.length > 0 && base.codePointAt(0)! <= 0xff && marks.every((m) => /\p{M}/u.test(m))) return base;
  return undefined;
}

function decodeWith(bytes: Buffer, charset: Decoding): string {
  if (charset === 'UNICODE UTF-8') return bytes.toString('utf8');
  const latin1 = bytes.toString('latin1');
  return charset === '8859/1' ? latin1 : latin1.replace(/[\xa4\xa6\xa8\xb4\xb8\xbc\xbd\xbe]/g, (c) => LATIN9[c]);
}

// The eight code points where 8859/15 differs from 8859/1.
const LATIN9: Record<string, string> = { '\xa4': '€', '\xa6': 'Š', '\xa8': 'š', '\xb4': 'Ž', '\xb8': 'ž', '\xbc': 'Œ', '\xbd': 'œ', '\xbe': 'Ÿ' };

function hasUtf8Bom(bytes: Buffer): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

function isAscii(bytes: Buffer): boolean {
  for (const b of bytes) if (b > 0x7f) return false;
  return true;
}

/** MSH-18, first repetition, first component, read from the header bytes; '' when absent. */
function readDeclaredCharset(bytes: Buffer): string {
  let start = 0;
  while (start < bytes.length && (bytes[start] === 0x0d || bytes[start] === 0x0a || bytes[start] === 0x20 || bytes[start] === 0x09)) start += 1;
  if (bytes.length < start + 8 || bytes.toString('latin1', start, start + 3) !== 'MSH') return '';
  let end = start;
  while (end < bytes.length && bytes[end] !== 0x0d && bytes[end] !== 0x0a) end += 1;
  const header = bytes.toString('latin1', start, end);
  const parts = header.split(header[3]);
  const encoding = parts[1] ?? '';
  // parts[0] is 'MSH' and parts[1] is MSH-2, so MSH-18 is parts[17].
  let value = parts[17] ?? '';
  if (encoding[1]) value = value.split(encoding[1])[0];
  if (encoding[0]) value = value.split(encoding[0])[0];
  return value.trim();
}
