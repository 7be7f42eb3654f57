/**
 * The hub's own pages under /passerelle/: the results board, the unmatched list and the
 * turnaround page, in French (default) or English. The pages hold no data: they are a shell
 * that signs in through Node-RED's /auth/token and reads the hub API with that bearer token,
 * so the data stays behind the editor's login. See docs/pages.md.
 */
import express from 'express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LANGUAGES, languageOf, type Language } from './language';

const ASSETS = join(__dirname, 'assets');
export const PAGES = ['board', 'unmatched', 'turnaround'] as const;
type Page = (typeof PAGES)[number];

export interface PagesOptions {
  siteId: string;
  timeZone: string;
}

type Messages = Record<string, string>;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** JSON inside a <script> element: '<' escaped, so no text can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function view(name: string): string {
  return readFileSync(join(ASSETS, 'views', `${name}.html`), 'utf8');
}

/** Fills {{t:key}} with the escaped message; a key missing from a language is a bug, caught at start. */
function translate(template: string, messages: Messages, language: Language): string {
  return template.replace(/\{\{t:([\w.-]+)\}\}/g, (_match, key: string) => {
    const message = messages[key];
    if (message === undefined) throw new Error(`pages: message ${key} is missing in ${language}`);
    return escapeHtml(message);
  });
}

function renderPage(page: Page, language: Language, messages: Messages, options: PagesOptions): string {
  const values: Record<string, string> = {
    lang: language,
    other: language === 'fr' ? 'en' : 'fr',
    page,
    site: escapeHtml(options.siteId),
    title: escapeHtml(messages[`${page}.title`] ?? page),
    config: scriptJson({ lang: language, page, site: options.siteId, timeZone: options.timeZone, messages }),
    content: view(page),
  };
  const filled = view('layout').replace(/\{\{(lang|other|page|site|title|config|content)\}\}/g, (_m, key: string) => values[key]);
  return translate(filled, messages, language);
}

/** Pages only: the data they show comes from the hub API, behind the login. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

export function hubPages(options: PagesOptions): express.Router {
  const locales = LANGUAGES.map((language) => ({ language, messages: JSON.parse(readFileSync(join(ASSETS, 'locales', `${language}.json`), 'utf8')) as Messages }));
  // The scripts' texts too: every language says everything the other says.
  const keys = new Set(locales.flatMap(({ messages }) => Object.keys(messages)));
  for (const { language, messages } of locales) {
    const missing = [...keys].filter((key) => messages[key] === undefined);
    if (missing.length > 0) throw new Error(`pages: messages missing in ${language}: ${missing.join(', ')}`);
  }
  const rendered = new Map<string, string>();
  for (const { language, messages } of locales) {
    for (const page of PAGES) rendered.set(`${page}:${language}`, renderPage(page, language, messages, options));
  }

  const pages = express.Router();
  pages.use((_req, res, next) => {
    res.set(SECURITY_HEADERS);
    next();
  });
  pages.get('/', (req, res) => {
    const query = new URLSearchParams(req.query as Record<string, string>).toString();
    res.redirect(`${req.baseUrl}/board${query ? `?${query}` : ''}`);
  });
  pages.get(`/:page(${PAGES.join('|')})`, (req, res) => {
    const language = languageOf(req.query.lang, req.get('accept-language'));
    res.set({ 'content-language': language, 'cache-control': 'no-cache', vary: 'Accept-Language' });
    res.type('html').send(rendered.get(`${req.params.page}:${language}`));
  });
  // Revalidated on each load (ETag), so an upgraded hub never runs yesterday's script.
  pages.use('/static', express.static(join(ASSETS, 'static'), { index: false, maxAge: 0, fallthrough: false }));
  return pages;
}
