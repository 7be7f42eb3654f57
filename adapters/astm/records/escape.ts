/**
 * E1394 escape sequences, with the message's escape character E (here `&`): `&F&` field, `&S&`
 * component, `&R&` repeat, `&E&` escape, `&H&`/`&N&` start and end of highlighting, `&Xhhhh&`
 * hexadecimal data, `&Zcccc&` the manufacturer's own. They do not nest.
 */
import type { Delimiters } from './delimiters';

/**
 * Decodes one component. Highlighting marks are dropped (they style text, they are not text),
 * `&Z…&` and anything unrecognised (or unterminated) are kept exactly as written: better a
 * visible oddity than a lost character.
 */
export function unescapeText(text: string, d: Delimiters): string {
  const e = d.escape;
  if (!e || !text.includes(e)) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf(e, i);
    if (start < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, start);
    const end = text.indexOf(e, start + 1);
    if (end < 0) {
      out += text.slice(start);
      break;
    }
    const body = text.slice(start + 1, end);
    const decoded = decodeSequence(body, d);
    if (decoded === null) {
      // Not a sequence: keep the escape character and look again from the next one.
      out += e;
      i = start + 1;
      continue;
    }
    out += decoded;
    i = end + 1;
  }
  return out;
}

function decodeSequence(body: string, d: Delimiters): string | null {
  switch (body) {
    case 'F': return d.field;
    case 'S': return d.component;
    case 'R': return d.repeat;
    case 'E': return d.escape;
    case 'H':
    case 'N': return '';
    default:
  }
  if (body[0] === 'X' && body.length >= 3 && (body.length - 1) % 2 === 0 && /^[0-9A-Fa-f]+$/.test(body.slice(1))) {
    let out = '';
    for (let i = 1; i < body.length; i += 2) out += String.fromCharCode(parseInt(body.slice(i, i + 2), 16));
    return out;
  }
  if (body[0] === 'Z' && body.length > 1) return `${d.escape}${body}${d.escape}`;
  return null;
}

/**
 * Encodes one component so that it reads back unchanged: delimiters become `&F& &S& &R& &E&`,
 * control characters (CR, LF, the link's own) become `&Xhh&`, since no record may carry them.
 */
export function escapeText(text: string, d: Delimiters): string {
  let out = '';
  for (const c of text) {
    if (c === d.escape) out += `${d.escape}E${d.escape}`;
    else if (c === d.field) out += `${d.escape}F${d.escape}`;
    else if (c === d.component) out += `${d.escape}S${d.escape}`;
    else if (c === d.repeat) out += `${d.escape}R${d.escape}`;
    else if (c.charCodeAt(0) < 0x20 || c === '\x7f') out += `${d.escape}X${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}${d.escape}`;
    else out += c;
  }
  return out;
}
