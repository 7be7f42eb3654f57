import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const NODES = join(__dirname, '..', '..', '..', 'nodes');
const LANGUAGES = ['en-US', 'fr'];

/** Every leaf key of a catalogue, with the __placeholders__ its text uses. */
function leaves(value: unknown, prefix = ''): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (typeof value === 'string') out.set(prefix, [...value.matchAll(/__(\w+)__/g)].map((m) => m[1]).sort());
  else for (const [k, v] of Object.entries(value as Record<string, unknown>)) for (const [key, p] of leaves(v, prefix ? `${prefix}.${k}` : k)) out.set(key, p);
  return out;
}

describe('node catalogues and help, English and French', () => {
  for (const node of readdirSync(NODES, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)) {
    it(`${node}: same keys and placeholders in every language, every key the runtime uses, help in both`, () => {
      const catalogues = LANGUAGES.map((lang) => leaves(JSON.parse(readFileSync(join(NODES, node, 'locales', lang, `${node}.json`), 'utf8'))));
      expect([...catalogues[1].entries()].sort()).to.deep.equal([...catalogues[0].entries()].sort());
      const runtime = readFileSync(join(NODES, node, `${node}.ts`), 'utf8');
      const used = [...runtime.matchAll(/RED\._\('([^']+)'/g)].map((m) => m[1]);
      expect(used.length).to.be.greaterThan(0);
      for (const key of used) expect(catalogues[0].has(key), `${key} in ${node}.json`).to.equal(true);
      for (const lang of LANGUAGES) {
        const help = readFileSync(join(NODES, node, 'locales', lang, `${node}.html`), 'utf8');
        expect(help).to.contain(`data-help-name="passerelle-${node}"`);
      }
    });
  }
});
