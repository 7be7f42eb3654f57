/** Runs the tools no one here wrote on the files the writers make: pdftotext, xmllint. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function withFile<T>(bytes: Buffer, name: string, use: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'gp-'));
  try {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return use(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The PDF's text as poppler's pdftotext lays it out (-layout keeps a table row on one line). */
export function pdfText(pdf: Buffer): string {
  return withFile(pdf, 'report.pdf', (path) => {
    const run = spawnSync('pdftotext', ['-layout', '-enc', 'UTF-8', path, '-'], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`pdftotext failed: ${run.stderr}`);
    return run.stdout;
  });
}

/** xmllint --noout: '' when well-formed, else its complaint. */
export function xmllintProblems(xml: Buffer): string {
  return withFile(xml, 'cda.xml', (path) => {
    const run = spawnSync('xmllint', ['--noout', path], { encoding: 'utf8' });
    return run.status === 0 ? '' : run.stderr;
  });
}

/** An XPath 1.0 string expression evaluated by xmllint (namespaces matched with local-name()). */
export function xpath(xml: Buffer, expression: string): string {
  return withFile(xml, 'cda.xml', (path) => {
    const run = spawnSync('xmllint', ['--xpath', expression, path], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`xmllint --xpath failed: ${run.stderr}`);
    return run.stdout.replace(/\n$/, '');
  });
}
