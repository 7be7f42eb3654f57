/**
 * Splitter fuzz property, run in a worker thread so the test can terminate it if it ever hangs
 * (a synchronous infinite loop would otherwise freeze mocha itself).
 */
import fc from 'fast-check';
import { parentPort, workerData } from 'node:worker_threads';
import { Poct1DocumentError, Poct1Splitter, type SplitItem } from '../../../adapters/poct1a';
import { EOT, OBS_QC } from './samples';

export interface FuzzRequest { runs: number }
export interface FuzzReport { failed: boolean; numRuns: number; report: string; /** documents that came out, over all runs */ documents: number }

const REASONS = new Set(['not-well-formed', 'oversize', 'truncated', 'unsupported-encoding']);

// Pieces that matter to the splitter: declarations, message roots opening and closing, markup, bytes.
const token = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('<?xml version="1.0"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>', '<?xml ', '<OBS.R01>', '</OBS.R01>', '<EOT.R01/>', '<EOT.R01 ', '<HDR>', '</HDR>', '<A V="x"/>', '<', '>', '/>', '</', '"', '&', '&amp;', '<!--', '-->', '<![CDATA[', ']]>', ' ', '\r\n', 'é', '\uFEFF', 'OBS.R01', '<?', '?>') },
  { weight: 2, arbitrary: fc.constantFrom(EOT, OBS_QC, EOT.slice(0, 120), OBS_QC.slice(200)) },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a).toString('latin1')) },
);
const stream = fc.tuple(fc.array(token, { maxLength: 40 }), fc.boolean()).map(([parts, latin1]) => Buffer.from(parts.join(''), latin1 ? 'latin1' : 'utf8'));

let documents = 0;

function run(input: Buffer, cuts: number[], max: number): SplitItem[] {
  const splitter = new Poct1Splitter({ maxDocumentBytes: max });
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  const out: SplitItem[] = [];
  let from = 0;
  for (const p of [...points, input.length]) {
    out.push(...splitter.push(input.subarray(from, p)));
    from = p;
  }
  out.push(...splitter.end());
  return out;
}

const key = (i: SplitItem) => (i instanceof Poct1DocumentError ? `E:${i.reason}:${i.offset}:${i.raw.toString('hex')}` : `D:${i.offset}:${i.raw.toString('hex')}`);
const isBlank = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

const property = fc.property(stream, fc.array(fc.nat(), { maxLength: 30 }), fc.constantFrom(64, 512, 1 << 20), (input, cuts, max) => {
  const items = run(input, cuts, max);
  let end = 0;
  const covered = new Uint8Array(input.length);
  for (const item of items) {
    if (item instanceof Poct1DocumentError) {
      if (!REASONS.has(item.reason)) throw new Error(`unknown reason ${item.reason}`);
      if (item.raw.length > max) throw new Error('an error keeps more than the bound');
    } else if (!item.root || typeof item.root.name !== 'string') throw new Error('a document without a root');
    else documents += 1;
    if (item.offset < end) throw new Error('items overlap or go backwards');
    if (!item.raw.equals(input.subarray(item.offset, item.offset + item.raw.length))) throw new Error('raw bytes are not the input bytes');
    covered.fill(1, item.offset, item.offset + item.raw.length);
    end = item.offset + item.raw.length;
  }
  // Under the bound nothing is dropped: a byte is in a document, in an error, or blank between documents.
  if (input.length <= max) {
    for (let i = 0; i < input.length; i += 1) if (!covered[i] && !isBlank(input[i])) throw new Error(`byte ${i} is lost`);
  }
  const once = run(input, [], max).map(key);
  const chunked = items.map(key);
  if (once.join('|') !== chunked.join('|')) throw new Error('output depends on chunking');
});

const request = workerData as FuzzRequest;
const details = fc.check(property, { numRuns: request.runs });
const report: FuzzReport = { failed: details.failed, numRuns: details.numRuns, report: details.failed ? fc.defaultReportMessage(details) ?? 'failed' : '', documents };
parentPort!.postMessage(report);
