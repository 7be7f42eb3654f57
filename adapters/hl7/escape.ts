/**
 * ER7 escape sequences (HL7 v2.5 chapter 2.7): delimiters inside data become \F\ \S\ \T\ \R\ \E\
 * (and \P\ for a declared truncation character); bytes that would break the framing become \Xhh\.
 */
import { isUtf8 } from 'node:buffer';
import type { Delimiters } from './delimiters';

// Control characters that must never appear raw: CR/LF split segments, 0x0B/0x1C are MLLP framing.
const HEX_ESCAPED: Record<string, string> = { '\r': '0D', '\n': '0A', '\x0b': '0B', '\x1c': '1C' };

/** Escapes plain text so it can stand as one leaf (subcomponent) of a field. */
export function escapeText(text: string, d: Delimiters): string {
  let out = '';
  for (const ch of text) {
    if (ch === d.escape) out += `${d.escape}E${d.escape}`;
    else if (ch === d.field) out += `${d.escape}F${d.escape}`;
    else if (ch === d.component) out += `${d.escape}S${d.escape}`;
    else if (ch === d.subcomponent) out += `${d.escape}T${d.escape}`;
    else if (ch === d.repetition) out += `${d.escape}R${d.escape}`;
    else if (d.truncation !== undefined && ch === d.truncation) out += `${d.escape}P${d.escape}`;
    else if (HEX_ESCAPED[ch] !== undefined) out += `${d.escape}X${HEX_ESCAPED[ch]}${d.escape}`;
    else out += ch;
  }
  return out;
}

/**
 * Escapes formatted text (FT, TX): line breaks become \.br\, the formatting command receivers
 * show as a new line; everything else as escapeText.
 */
export function escapeFormattedText(text: string, d: Delimiters): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => escapeText(line, d))
    .join(`${d.escape}.br${d.escape}`);
}

/**
 * Decodes the escape sequences of one leaf. \F\ \S\ \T\ \R\ \E\ \P\ give the delimiters,
 * \Xhh..\ the bytes (UTF-8 when they are valid UTF-8, else Latin-1), \.br\ and \.sp\ line
 * breaks. Anything else (highlighting, character-set switches, site escapes, an unterminated
 * escape) is kept as written, so nothing is silently lost.
 */
export function unescapeText(text: string, d: Delimiters): string {
  if (!text.includes(d.escape)) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf(d.escape, i);
    if (start < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, start);
    const end = text.indexOf(d.escape, start + 1);
    if (end < 0) {
      out += text.slice(start);
      break;
    }
    const sequence = text.slice(start + 1, end);
    const decoded = decodeSequence(sequence, d);
    out += decoded ?? text.slice(start, end + 1);
    i = end + 1;
  }
  return out;
}

function decodeSequence(sequence: string, d: Delimiters): string | undefined {
  switch (sequence) {
    case 'F': return d.field;
    case 'S': return d.component;
    case 'T': return d.subcomponent;
    case 'R': return d.repetition;
    case 'E': return d.escape;
    case 'P': return d.truncation;
    case '.br': return '\n';
  }
  const space = /^\.sp(\d{0,3})$/.exec(sequence);
  if (space) return '\n'.repeat(space[1] === '' ? 1 : Number(space[1]));
  if (/^X(?:[0-9A-Fa-f]{2})+$/.test(sequence)) {
    const bytes = Buffer.from(sequence.slice(1), 'hex');
    return isUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1');
  }
  return undefined;
}
