/**
 * A watched folder of cart photos and reports: <name>.json (the passerelle.photo/1 companion)
 * beside <name>.jpg, .jpeg or .pdf. The companion is the signal that the pair is ready: the cart
 * writes it last (or writes both under another name and renames them). Once the pair is
 * journaled and stored, both files move to done/; refused ones to rejected/, with <name>.error.txt.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

export interface FolderPair {
  name: string;
  companionPath: string;
  bytesPath: string;
}

const BYTES_EXTENSIONS = ['.jpg', '.jpeg', '.pdf'];

/** The complete pairs in `dir`, oldest name first; hidden files and lone halves are left alone. */
export async function findPairs(dir: string): Promise<FolderPair[]> {
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name);
  const byLowerName = new Map(names.map((n) => [n.toLowerCase(), n]));
  const pairs: FolderPair[] = [];
  for (const name of names.filter((n) => n.toLowerCase().endsWith('.json')).sort()) {
    const base = name.slice(0, -'.json'.length);
    const bytes = BYTES_EXTENSIONS.map((ext) => byLowerName.get(`${base.toLowerCase()}${ext}`)).find((n) => n !== undefined);
    if (bytes) pairs.push({ name: base, companionPath: join(dir, name), bytesPath: join(dir, bytes) });
  }
  return pairs;
}

export async function readPair(pair: FolderPair): Promise<{ companion: Buffer; bytes: Buffer }> {
  return { companion: await readFile(pair.companionPath), bytes: await readFile(pair.bytesPath) };
}

/** Moves both files to done/ or rejected/ (with the reason beside them). */
export async function settlePair(dir: string, pair: FolderPair, outcome: 'done' | 'rejected', reason?: string): Promise<void> {
  const target = join(dir, outcome);
  await mkdir(target, { recursive: true });
  for (const path of [pair.bytesPath, pair.companionPath]) await rename(path, join(target, basename(path)));
  if (reason) await writeFile(join(target, `${pair.name}.error.txt`), `${reason}\n`);
}
