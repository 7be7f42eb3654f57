/**
 * The four delimiters, read from the header: `H|\^&` says field `|`, repeat `\`, component `^`,
 * escape `&`. Devices choose others (`H|@^\`, a backtick for repeat), so they are always read,
 * never assumed.
 */
import { AstmParseError } from './errors';

export interface Delimiters {
  field: string;
  repeat: string;
  component: string;
  escape: string;
}

export const DEFAULT_DELIMITERS: Readonly<Delimiters> = Object.freeze({ field: '|', repeat: '\\', component: '^', escape: '&' });

export interface HeaderDelimiters {
  delimiters: Delimiters;
  /** The definition as written in the header (field 2), e.g. `\^&`. */
  definition: string;
  /** Set when the definition had to be read charitably (a doubled character). */
  quirk?: string;
}

/**
 * Reads the delimiters from a header record's text (`H|\^&|...`). A character written twice in a
 * row is read once: one real capture has `H|\\^&`, the backslash doubled by whatever stored it.
 */
export function readDelimiters(header: string): HeaderDelimiters {
  if (header.length < 5 || header[0] !== 'H') throw new AstmParseError('the message does not start with a header (H) record');
  const field = header[1];
  if (isUnusable(field)) throw new AstmParseError('header: the field delimiter is not a printable character');
  let end = header.indexOf(field, 2);
  if (end < 0) end = header.length;
  const definition = header.slice(2, end);
  const distinct: string[] = [];
  for (const c of definition) if (distinct[distinct.length - 1] !== c) distinct.push(c);
  if (distinct.length !== 3) throw new AstmParseError(`header: expected 3 delimiter characters after the field delimiter, found ${distinct.length}`);
  const [repeat, component, escape] = distinct;
  const all = [field, repeat, component, escape];
  if (all.some(isUnusable)) throw new AstmParseError('header: a delimiter is not a printable character');
  if (new Set(all).size !== 4) throw new AstmParseError('header: the four delimiters are not distinct');
  return {
    delimiters: { field, repeat, component, escape },
    definition,
    ...(distinct.length !== definition.length ? { quirk: 'a delimiter character is written twice in the header; read once' } : {}),
  };
}

function isUnusable(c: string): boolean {
  const code = c.charCodeAt(0);
  return c.length !== 1 || code < 0x20 || code === 0x7f || /[A-Za-z0-9 ]/.test(c);
}
