/**
 * Child process of crash.test: writes to the store as fast as it can and tells the parent each
 * id as soon as the call returned, until the parent kills it with SIGKILL.
 * argv: <dir> <durability>
 */
import { Store, type Durability } from '../../../adapters/journal';
import { payloadOf, rawOf, type Written } from './crash-data';

const [dir, durability] = process.argv.slice(2);
const store = Store.open({ dir, durability: durability as Durability });
const send = process.send!.bind(process);

function writeOne(n: number): Written {
  const inboundId = store.journalInbound({ channel: 'crash:test', contentType: 'text/plain', raw: rawOf(n), status: 'accepted', publishTopic: 'passerelle/v1/t' });
  const queued = store.enqueue({ destination: 'ehr', dedupeKey: `k${n}`, inboundId, build: (controlId) => payloadOf(n, controlId) });
  // Some go further down the path, so the kill also lands in updates.
  if (n % 2 === 0) store.markSent(queued.id, n);
  if (n % 4 === 0) store.markAccepted(queued.id, { code: 'AA' }, n);
  return { n, inboundId, outboundId: queued.id, controlId: queued.controlId };
}

let n = 0;
function burst(): void {
  for (let i = 0; i < 25; i++, n++) {
    // Every third result goes through one transaction, as a node grouping its writes would.
    const written = n % 3 === 0 ? store.transaction(() => writeOne(n)) : writeOne(n);
    send(written);
  }
  setImmediate(burst);
}

burst();
