// Node-RED loads a node's editor template (.html), icons and locales from beside its
// compiled .js, so copy them from nodes/ into dist/nodes/ after tsc.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';

const src = 'nodes';
const dest = join('dist', 'nodes');
const assets = new Set(['.html', '.json', '.png', '.svg']);

function copy(dir) {
  for (const name of readdirSync(dir)) {
    const from = join(dir, name);
    if (statSync(from).isDirectory()) copy(from);
    else if (assets.has(extname(name))) cpSync(from, join(dest, from.slice(src.length + 1)), { recursive: true });
  }
}
copy(src);

// The hub's pages: views, locales and browser files, served from beside dist/gateway/pages/.
cpSync(join('gateway', 'pages', 'assets'), join('dist', 'gateway', 'pages', 'assets'), { recursive: true });
