/**
 * A real headless Chromium (Debian's /usr/bin/chromium, or PASSERELLE_CHROMIUM) driven by
 * playwright-core. The background-networking flags matter: without them Chromium waits on
 * update and sync services that a closed network never answers.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Where browser tests save their screenshots: the project's test-output/ (git-ignored), from dist/test/support. */
export const TEST_OUTPUT = resolve(__dirname, '..', '..', '..', 'test-output');

export const CHROMIUM = process.env.PASSERELLE_CHROMIUM ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set PASSERELLE_CHROMIUM`);
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}
