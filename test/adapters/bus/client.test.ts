import { expect } from 'chai';
import { BusClient, startBroker, type RunningBroker } from '../../../adapters/bus';
import { freePort, once, tempDir } from '../../support/net';
import { rejection, waitFor } from './helpers';

describe('bus client against the embedded broker', function () {
  this.timeout(30_000);
  const credentials = { username: 'hub', password: 'correct horse battery staple' };
  let broker: RunningBroker;
  let data: ReturnType<typeof tempDir>;
  const clients: BusClient[] = [];

  async function client(clientId: string, extra: Partial<Parameters<typeof BusClient.connect>[0]> = {}): Promise<BusClient> {
    const c = await BusClient.connect({ url: broker.url, clientId, ...credentials, ...extra });
    clients.push(c);
    return c;
  }

  beforeEach(async () => {
    data = tempDir();
    broker = await startBroker({
      host: '127.0.0.1', port: 0, dataDir: data.dir, credentials,
      authorize: { subscribe: (_id, filter) => !filter.startsWith('forbidden/') },
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await broker.close();
    data.remove();
  });

  it('publishes QoS 1 and hands the payload and topic to the durable handler', async () => {
    const seen: Array<[string, string]> = [];
    const sub = await client('client-test-sub');
    await sub.subscribeDurable('passerelle/v1/+/biology/+/result', async (topic, payload) => { seen.push([topic, payload.toString()]); });
    const pub = await client('client-test-pub');
    await pub.publish('passerelle/v1/site-a/biology/poct-7/result', Buffer.from('{"glucose":5.4}'));
    await pub.publish('passerelle/v1/site-a/imaging/us-1/result', 'not for this filter');
    await waitFor(() => seen.length === 1, 'the biology result');
    expect(seen).to.deep.equal([['passerelle/v1/site-a/biology/poct-7/result', '{"glucose":5.4}']]);
    expect(broker.clients()).to.equal(2);
    expect(sub.connected).to.equal(true);
  });

  it('gives an online subscriber every message of a burst, in publish order (aedes alone holds some back)', async () => {
    const got: number[] = [];
    const sub = await client('client-test-burst-sub');
    await sub.subscribeDurable('burst/#', async (_t, p) => { got.push(Number(p.toString())); });
    const pub = await client('client-test-burst-pub');
    const N = 500;
    await Promise.all(Array.from({ length: N }, (_, n) => pub.publish(`burst/${n % 7}`, String(n))));
    await waitFor(() => got.length >= N, `${N} messages`, 10_000);
    expect(got).to.deep.equal(Array.from({ length: N }, (_, n) => n));
  });

  it('does not acknowledge a message whose handler rejects: it comes back, then is acknowledged once', async () => {
    const attempts: string[] = [];
    const errors: Error[] = [];
    const sub = await client('client-test-failing');
    sub.on('error', (err: Error) => errors.push(err));
    let failuresLeft = 1;
    await sub.subscribeDurable('lab/#', async (_topic, payload) => {
      attempts.push(payload.toString());
      if (failuresLeft-- > 0) throw new Error('journal disk full');
    });
    const pub = await client('client-test-failing-pub');
    await pub.publish('lab/1', 'first');
    await pub.publish('lab/1', 'second');
    await waitFor(() => attempts.filter((a) => a === 'second').length === 1, 'the second message');
    // 'first' failed, was redelivered after a reconnect, and only then did 'second' run
    expect(attempts).to.deep.equal(['first', 'first', 'second']);
    expect(errors.map((e) => e.message)).to.satisfy((m: string[]) => m.some((x) => /handler for lab\/1 failed, message not acknowledged: journal disk full/.test(x)));
    // nothing more comes back once acknowledged: reconnect and check the queue is empty
    await sub.close();
    const again = await client('client-test-failing');
    const after: string[] = [];
    await again.subscribeDurable('lab/#', async (_t, p) => { after.push(p.toString()); });
    await pub.publish('lab/1', 'marker');
    await waitFor(() => after.includes('marker'), 'the marker');
    expect(after).to.deep.equal(['marker']);
  });

  it('keeps messages of a restored session waiting until their handler is declared', async () => {
    const first = await client('client-test-late');
    await first.subscribeDurable('orders/#', async () => undefined);
    await first.close();
    const pub = await client('client-test-late-pub');
    for (const n of [1, 2, 3]) await pub.publish(`orders/${n}`, `order ${n}`);

    const got: string[] = [];
    const late = await client('client-test-late');
    await late.subscribeDurable('other/#', async () => undefined); // the session delivers orders/* meanwhile
    await late.subscribeDurable('orders/#', async (_t, p) => { got.push(p.toString()); });
    await waitFor(() => got.length === 3, 'three orders');
    // Each exactly once. The order is kept per topic; a message left for redelivery because its
    // handler came after the grace period arrives after the later topics' messages.
    expect([...got].sort()).to.deep.equal(['order 1', 'order 2', 'order 3']);
  });

  it('reports messages no handler covers, and gets them once one is declared', async () => {
    const first = await client('client-test-orphans');
    await first.subscribeDurable('orders/#', async () => undefined);
    await first.close();
    const pub = await client('client-test-orphans-pub');
    for (const n of [1, 2, 3]) await pub.publish(`orders/${n}`, `order ${n}`);

    const late = await client('client-test-orphans');
    const warning = once<Error>(late, 'error');
    expect((await warning).message).to.equal('bus: messages on orders/1, orders/2, orders/3 match no handler of client-test-orphans; ' +
      'they stay queued until subscribeDurable() covers them (an old subscription of this session?)');
    const got: string[] = [];
    const reconnected = once(late, 'connect');
    await late.subscribeDurable('orders/#', async (_t, p) => { got.push(p.toString()); });
    await reconnected; // the client reconnects so that the broker sends them again
    await waitFor(() => got.length === 3, 'three orders');
    // Each exactly once. The order is kept per topic; a message left for redelivery because its
    // handler came after the grace period arrives after the later topics' messages.
    expect([...got].sort()).to.deep.equal(['order 1', 'order 2', 'order 3']);
  });

  it('refuses wrong credentials with a clear error, and says so when nothing answers', async () => {
    const wrong = await rejection(BusClient.connect({ url: broker.url, clientId: 'client-test-intruder', username: 'hub', password: 'guess' }));
    expect(wrong.message).to.equal(`bus: ${broker.url} refused client client-test-intruder: bad username or password (CONNACK 4)`);
    const anonymous = await rejection(BusClient.connect({ url: broker.url, clientId: 'client-test-anonymous' }));
    expect(anonymous.message).to.match(/refused client client-test-anonymous: bad username or password/);

    const nowhere = `mqtt://127.0.0.1:${await freePort()}`;
    const lost = await rejection(BusClient.connect({ url: nowhere, clientId: 'client-test-lost', connectTimeoutMs: 800 }));
    expect(lost.message).to.match(new RegExp(`cannot connect to ${nowhere} as client-test-lost within 800 ms \\(last error: .*ECONNREFUSED`));
  });

  it('reports a subscription the broker refuses, and rejects publishes still pending at close', async () => {
    const sub = await client('client-test-refused');
    const refused = await rejection(sub.subscribeDurable('forbidden/#', async () => undefined));
    expect(refused.message).to.equal(`bus: ${broker.url} refused the subscription to forbidden/# for client-test-refused`);

    sub.on('error', () => undefined); // the broker goes away under it
    await broker.close(); // the publisher cannot get a PUBACK any more
    const pending = rejection(sub.publish('lab/1', 'never acknowledged'));
    await sub.close();
    expect((await pending).message).to.equal('bus: client closed before the broker acknowledged the message');
    data.remove();
    data = tempDir();
    broker = await startBroker({ host: '127.0.0.1', port: 0, dataDir: data.dir }); // for afterEach
  });

  it('delivers a retained result to a subscriber that comes later', async () => {
    const pub = await client('client-test-retain-pub');
    await pub.publish('passerelle/v1/site-a/hub/gw/status', '{"state":"up"}', { retain: true });
    const got: string[] = [];
    const sub = await client('client-test-retain-sub');
    await sub.subscribeDurable('passerelle/v1/+/hub/+/status', async (_t, p) => { got.push(p.toString()); });
    await waitFor(() => got.length === 1, 'the retained status');
    expect(got).to.deep.equal(['{"state":"up"}']);
  });
});
