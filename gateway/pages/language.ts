/** The language of a page: ?lang= when given, else the browser's first French or English choice, else French. */

export const LANGUAGES = ['fr', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'fr';

function known(tag: string): Language | undefined {
  const primary = tag.trim().toLowerCase().split('-')[0];
  return (LANGUAGES as readonly string[]).includes(primary) ? (primary as Language) : undefined;
}

/** Accept-Language ("en-US,en;q=0.9,fr;q=0.8"), highest quality first; ties keep their order. */
function preferred(acceptLanguage: string): string[] {
  return acceptLanguage
    .split(',')
    .map((entry, index) => {
      const [tag, ...params] = entry.split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const quality = q === undefined ? 1 : Number(q.slice(2));
      return { tag: tag.trim(), quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((entry) => entry.tag !== '' && entry.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index)
    .map((entry) => entry.tag);
}

export function languageOf(queryLang: unknown, acceptLanguage: string | undefined): Language {
  if (typeof queryLang === 'string') {
    const asked = known(queryLang);
    if (asked) return asked;
  }
  for (const tag of preferred(acceptLanguage ?? '')) {
    const language = known(tag);
    if (language) return language;
  }
  return DEFAULT_LANGUAGE;
}
