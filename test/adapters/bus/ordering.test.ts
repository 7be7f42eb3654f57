import { expect } from 'chai';
import { ClassicLevel } from 'classic-level';
import { OrderedLevelPersistence } from '../../../adapters/bus/ordering';
import { tempDir } from '../../support/net';

describe('bus: ordered persistence', () => {
  it('reports failed outgoing updates to their caller, in order, without an unhandled rejection', async () => {
    const data = tempDir();
    const db = new ClassicLevel<string, Buffer>(data.dir, { valueEncoding: 'buffer' });
    const persistence = new OrderedLevelPersistence(db);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // updates for messages that were never queued fail; the later ones fail while earlier ones are pending
      const settled: string[] = [];
      const updates = Array.from({ length: 50 }, (_, n) => persistence
        .outgoingUpdate({ id: 'subscriber' }, { cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 1, messageId: n + 1, brokerId: 'b', brokerCounter: n + 1 })
        .then(() => settled.push(`${n} ok`), (err: Error) => settled.push(`${n} ${err.message}`)));
      await Promise.all(updates);
      await new Promise((resolve) => setImmediate(resolve)); // let Node report what was unhandled
      expect(settled).to.deep.equal(Array.from({ length: 50 }, (_, n) => `${n} no such packet`));
      expect(unhandled).to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await persistence.destroy();
      data.remove();
    }
  });
});
