import { expect } from 'chai';
import Database from 'better-sqlite3';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { DATABASE_FILE, Store, type Durability } from '../../../adapters/journal';
import { tempDir } from '../../support/net';
import { payloadOf, rawOf, type Written } from './crash-data';

/** Runs the writer until `count` ids came back, then kill -9 mid-write; resolves with the ids. */
function writeThenKill(dir: string, durability: Durability, count: number): Promise<Written[]> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'crash-writer.js'), [dir, durability], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const written: Written[] = [];
    child.on('message', (message: Written) => {
      written.push(message);
      if (written.length === count) child.kill('SIGKILL');
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself (code ${code}) before it was killed`));
      else resolve(written);
    });
  });
}

describe('journal store: durable across kill -9 of the writing process', function () {
  this.timeout(120_000);

  for (const durability of ['process-crash', 'power-loss'] as const) {
    it(`every id returned before the kill is there after restart (${durability})`, async () => {
      const { dir, remove } = tempDir('passerelle-crash-');
      try {
        const written = await writeThenKill(dir, durability, durability === 'power-loss' ? 300 : 1500);
        const db = new Database(join(dir, DATABASE_FILE));
        expect(db.pragma('integrity_check', { simple: true })).to.equal('ok');
        const rows = db.prepare('SELECT count(*) FROM inbound').pluck().get() as number;
        db.close();
        expect(rows).to.be.at.least(written.length);

        const store = Store.open({ dir, durability });
        try {
          for (const w of written) {
            const entry = store.getInbound(w.inboundId);
            expect(entry, `inbound ${w.n}`).to.not.equal(undefined);
            expect(entry!.raw.equals(rawOf(w.n)), `raw bytes of ${w.n}`).to.equal(true);
            const message = store.getOutbound(w.outboundId);
            expect(message?.controlId, `outbound ${w.n}`).to.equal(w.controlId);
            expect(message!.payload.equals(payloadOf(w.n, w.controlId))).to.equal(true);
            expect(message!.inboundId).to.equal(w.inboundId);
            // Accepted stays accepted; a message the kill caught 'sent' is due again.
            expect(message!.state).to.equal(w.n % 4 === 0 ? 'accepted' : w.n % 2 === 0 ? 'waiting' : 'pending');
          }
          // And the store goes on: new control ids do not collide with the dead process's.
          const after = store.enqueue({ destination: 'ehr', dedupeKey: 'after-restart', build: (cid) => Buffer.from(cid) });
          expect(written.map((w) => w.controlId)).to.not.include(after.controlId);
          expect(store.findByControlId(after.controlId)?.id).to.equal(after.id);
        } finally {
          store.close();
        }
      } finally {
        remove();
      }
    });
  }
});
