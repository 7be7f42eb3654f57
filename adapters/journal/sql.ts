/** Small helpers shared by the store's tables. */

const MAX_LIMIT = 10_000;

/** A page size: a positive integer, capped so one call cannot load a whole table. */
export function pageSize(limit: number): number {
  if (!Number.isFinite(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  return Math.min(Math.floor(limit), MAX_LIMIT);
}

/** SQL NULL becomes an absent property. */
export function opt<T>(value: T | null): T | undefined {
  return value === null ? undefined : value;
}

/** A LIKE pattern matching `text` anywhere, with its wildcards taken literally (ESCAPE '\'). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Lower case without diacritics, so 'helene' finds 'Hélène' and 'noel' finds 'NOËL'. */
export function searchKey(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/œ/gi, 'oe').replace(/æ/gi, 'ae').toLowerCase();
}
