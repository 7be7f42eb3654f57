/** The delimiters of one ER7 message, as MSH-1 and MSH-2 declare them. */
export interface Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
  /** The v2.7 truncation character (5th character of MSH-2), when the message declares one. */
  truncation?: string;
}

/** What we write: `|^~\&`, understood by every receiver from v2.1 on. */
export const STANDARD_DELIMITERS: Readonly<Delimiters> = Object.freeze({
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
});

/** MSH-2 as written in a header. */
export function encodingCharacters(d: Delimiters): string {
  return d.component + d.repetition + d.escape + d.subcomponent + (d.truncation ?? '');
}
