/**
 * Small helpers to write ER7 with the standard delimiters. Plain strings are data and get
 * escaped; Er7 values are already-encoded structure (components, subcomponents, repetitions).
 * Trailing empty elements are dropped at every level, as receivers expect ('A^B', not 'A^B^^').
 * undefined is written as an empty element, never as the word 'undefined'.
 */
import { STANDARD_DELIMITERS as D, encodingCharacters } from './delimiters';
import { escapeFormattedText, escapeText } from './escape';

export class Er7 {
  constructor(readonly text: string) {}
}

export type Part = string | undefined | Er7;

function encode(part: Part): string {
  if (part === undefined) return '';
  return part instanceof Er7 ? part.text : escapeText(part, D);
}

function joinTrimmed(parts: readonly Part[], separator: string): string {
  const texts = parts.map(encode);
  while (texts.length > 0 && texts[texts.length - 1] === '') texts.pop();
  return texts.join(separator);
}

/** Components: 'code^text^LN'. */
export function components(...parts: Part[]): Er7 {
  return new Er7(joinTrimmed(parts, D.component));
}

/** Subcomponents inside one component: 'name&1.2.250.1.213.1.4.8&ISO'. */
export function subcomponents(...parts: Part[]): Er7 {
  return new Er7(joinTrimmed(parts, D.subcomponent));
}

/** Repetitions of one field: 'H~A'. Empty repetitions are dropped. */
export function repetitions(parts: readonly Part[]): Er7 {
  return new Er7(parts.map(encode).filter((t) => t !== '').join(D.repetition));
}

/** Formatted text (FT/TX): line breaks become \.br\. */
export function formattedText(text: string | undefined): Er7 {
  return new Er7(text === undefined ? '' : escapeFormattedText(text, D));
}

/** One segment without terminator. For MSH, fields start at MSH-3 (MSH-1/2 are written here). */
export function segment(name: string, fields: readonly Part[]): string {
  if (name === 'MSH') return `MSH${D.field}${encodingCharacters(D)}${D.field}${joinTrimmed(fields, D.field)}`;
  const body = joinTrimmed(fields, D.field);
  return body === '' ? name : `${name}${D.field}${body}`;
}

/** Segments joined with CR, the message ending with CR. */
export function message(segments: readonly string[]): string {
  return segments.map((s) => `${s}\r`).join('');
}
