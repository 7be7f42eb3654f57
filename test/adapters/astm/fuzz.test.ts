/**
 * fast-check properties, each run in a worker with a deadline: a hang fails the test instead of
 * freezing it. The number of cases is in each title.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { sharedFixture } from '../../support/shared';
import type { FuzzKind, FuzzReport, FuzzRequest } from './fuzz.worker';
import { FRAMED_FIXTURES } from './helpers';

const DEADLINE_MS = 50_000;
const RUNS: Record<FuzzKind, number> = {
  'receiver-random': 3000,
  'receiver-mutated': 1000,
  'lossy-line': 500,
  'records-roundtrip': 2000,
  'parser-random': 3000,
};

function fuzzInWorker(request: FuzzRequest): Promise<FuzzReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(__dirname, 'fuzz.worker.js'), { workerData: request });
    const deadline = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`${request.kind} still running after ${DEADLINE_MS} ms: it hangs`));
    }, DEADLINE_MS);
    worker.once('message', (report: FuzzReport) => {
      clearTimeout(deadline);
      void worker.terminate();
      resolve(report);
    });
    worker.once('error', (err) => {
      clearTimeout(deadline);
      reject(err);
    });
  });
}

async function check(kind: FuzzKind, fixtures?: Record<string, string>): Promise<FuzzReport> {
  const report = await fuzzInWorker({ kind, runs: RUNS[kind], fixtures });
  expect(report.failed, report.report).to.equal(false);
  expect(report.numRuns).to.equal(RUNS[kind]);
  return report;
}

describe('astm fuzzing (fast-check, in a worker with a deadline)', function () {
  this.timeout(DEADLINE_MS + 10_000);

  it(`${RUNS['receiver-random']} random byte streams (control characters weighted up, random clock, busy, interrupts) into a receiver: never throws, replies only ACK/NAK/EOT, back to neutral within 31 s`, async () => {
    const { stats } = await check('receiver-random');
    expect(stats.bytes).to.be.greaterThan(0);
  });

  it(`${RUNS['receiver-mutated']} mutated captures (bytes changed, dropped, repeated, inserted; random chunking) into a receiver: never throws, never hangs, accepts no forbidden byte; unmutated ones read exactly`, async () => {
    const fixtures = Object.fromEntries(FRAMED_FIXTURES.map((f) => [f, sharedFixture('astm', f)]));
    const { stats } = await check('receiver-mutated', fixtures);
    expect(stats.clean).to.be.greaterThan(0);
    expect(stats.mutated).to.be.greaterThan(0);
  });

  it(`${RUNS['lossy-line']} transfers between a sender and a receiver over a line that loses and corrupts bytes: what arrives was sent (a prefix at worst), a message the sender calls sent arrives whole`, async () => {
    const { stats } = await check('lossy-line');
    expect(stats['delivered whole']).to.be.greaterThan(0);
  });

  it(`${RUNS['records-roundtrip']} random messages (4 delimiter sets, any text with delimiters, CR/LF, control characters) survive writer → parser unchanged`, async () => {
    const { stats } = await check('records-roundtrip');
    expect(stats.records).to.be.greaterThan(0);
  });

  it(`${RUNS['parser-random']} random texts into the parser and the mapping (4 profiles): parsed or refused with AstmParseError, mapping never throws`, async () => {
    const { stats } = await check('parser-random');
    expect(stats.parsed).to.be.greaterThan(0);
    expect(stats.refused).to.be.greaterThan(0);
  });
});
