import { expect } from 'chai';
import { startBroker, type RunningBroker } from '../../adapters/bus';
import { tempDir } from '../support/net';
import { busNode, helper, startHarness, type Harness } from './harness';

interface ConnectingNode { connect(owner: { id: string }): Promise<{ close(): Promise<void>; connected: boolean }> }

describe('passerelle-bus config node', function () {
  this.timeout(30_000);
  let harness: Harness;
  let secured: RunningBroker;
  const data = tempDir('passerelle-bus-node-');

  before(async () => {
    harness = await startHarness();
    secured = await startBroker({ host: '127.0.0.1', port: 0, dataDir: data.dir, credentials: { username: 'technicien', password: 'long-secret' } });
  });
  after(async () => { await secured.close(); await harness.stop(); data.remove(); });
  afterEach(async () => { await helper.unload(); });

  it('in hub mode, connects to the hub bus given by the settings', async () => {
    await helper.load(busNode, [{ id: 'bus', type: 'passerelle-bus', mode: 'hub' }]);
    const client = await (helper.getNode('bus') as unknown as ConnectingNode).connect({ id: 'owner-1' });
    expect(client.connected).to.equal(true);
    await client.close();
  });

  it('in broker mode, uses its URL and credentials, and a wrong password is refused clearly', async () => {
    await helper.load(busNode, [
      { id: 'good', type: 'passerelle-bus', mode: 'broker', url: secured.url },
      { id: 'bad', type: 'passerelle-bus', mode: 'broker', url: secured.url },
    ], { good: { username: 'technicien', password: 'long-secret' }, bad: { username: 'technicien', password: 'wrong' } } as never);
    const client = await (helper.getNode('good') as unknown as ConnectingNode).connect({ id: 'owner-2' });
    expect(client.connected).to.equal(true);
    await client.close();
    const refused = await (helper.getNode('bad') as unknown as ConnectingNode).connect({ id: 'owner-3' }).then(() => 'connected', (err: Error) => err.message);
    expect(refused).to.match(/refused client .*(bad username or password|not authorized)/);
  });

  it('in broker mode without a URL, says so', async () => {
    await helper.load(busNode, [{ id: 'bus', type: 'passerelle-bus', mode: 'broker', url: '' }]);
    const refused = await (helper.getNode('bus') as unknown as ConnectingNode).connect({ id: 'owner-4' }).then(() => 'connected', (err: Error) => err.message);
    expect(refused).to.equal('passerelle-bus.errors.no-url');
  });
});
