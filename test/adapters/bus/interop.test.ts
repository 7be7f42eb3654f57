import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { BusClient, startBroker, type RunningBroker } from '../../../adapters/bus';
import { topicFor } from '../../../adapters/model/topics';
import { tempDir } from '../../support/net';
import { killChildren, rejection, run, startMosquitto, waitFor } from './helpers';
import { makeCertificate } from '../../support/certificate';

const TOPIC = topicFor({ site: 'interop', kind: 'vitals', source: 'cart-3', event: 'result' });
const FILTER = 'passerelle/v1/interop/vitals/+/result';

describe('bus: with peers no one here wrote', function () {
  this.timeout(30_000);
  const user = { username: 'passerelle', password: 'k1né-Ø' };
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await killChildren();
  });
  function dir(): string {
    const d = tempDir();
    cleanups.push(d.remove);
    return d.dir;
  }
  async function connect(options: Parameters<typeof BusClient.connect>[0]): Promise<BusClient> {
    const c = await BusClient.connect(options);
    cleanups.push(() => c.close());
    return c;
  }
  async function ourBroker(extra: { tls?: { port: number; key: Buffer; cert: Buffer } } = {}): Promise<RunningBroker> {
    const broker = await startBroker({ host: '127.0.0.1', port: 0, dataDir: dir(), credentials: user, ...extra });
    cleanups.push(() => broker.close());
    return broker;
  }

  describe("BusClient against Debian's Mosquitto", () => {
    it('needs the credentials, refuses wrong ones clearly, and keeps a persistent session', async () => {
      const { port } = await startMosquitto(dir(), user);
      const url = `mqtt://127.0.0.1:${port}`;

      const wrong = await rejection(BusClient.connect({ url, clientId: 'interop-intruder', username: user.username, password: 'nope' }));
      // Mosquitto 2.0 answers 5 (not authorized) to MQTT 3.1.1 clients, where aedes answers 4
      expect(wrong.message).to.equal(`bus: ${url} refused client interop-intruder: not authorized (credentials missing or wrong) (CONNACK 5)`);
      const anonymous = await rejection(BusClient.connect({ url, clientId: 'interop-anonymous' }));
      expect(anonymous.message).to.equal(`bus: ${url} refused client interop-anonymous: not authorized (credentials missing or wrong) (CONNACK 5)`);

      const got: string[] = [];
      const sub = await connect({ url, clientId: 'interop-mosquitto-sub', ...user });
      await sub.subscribeDurable(FILTER, async (topic, payload) => { got.push(`${topic} ${payload.toString()}`); });
      const pub = await connect({ url, clientId: 'interop-mosquitto-pub', ...user });
      await pub.publish(TOPIC, '{"spo2":97}');
      await waitFor(() => got.length === 1, 'the first result');

      // offline: Mosquitto queues for the session, and hands it over at reconnection
      await sub.close();
      await pub.publish(TOPIC, '{"spo2":95}');
      const back = await connect({ url, clientId: 'interop-mosquitto-sub', ...user });
      await back.subscribeDurable(FILTER, async (topic, payload) => { got.push(`${topic} ${payload.toString()}`); });
      await waitFor(() => got.length === 2, 'the result queued while offline');
      expect(got).to.deep.equal([`${TOPIC} {"spo2":97}`, `${TOPIC} {"spo2":95}`]);
    });
  });

  describe('mosquitto_pub and mosquitto_sub against our broker', () => {
    it('lets mosquitto_pub in with credentials and delivers to a BusClient; refuses it without', async () => {
      const broker = await ourBroker();
      const got: string[] = [];
      const sub = await connect({ url: broker.url, clientId: 'interop-our-sub', ...user });
      await sub.subscribeDurable(FILTER, async (topic, payload) => { got.push(`${topic} ${payload.toString()}`); });

      const base = ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', '-t', TOPIC];
      const accepted = await run('mosquitto_pub', [...base, '-i', 'interop-mosquitto-pub', '-u', user.username, '-P', user.password, '-m', '{"bp":"120/80"}']);
      expect(accepted.code, accepted.stderr).to.equal(0);
      await waitFor(() => got.length === 1, 'the message from mosquitto_pub');
      expect(got).to.deep.equal([`${TOPIC} {"bp":"120/80"}`]);

      const anonymous = await run('mosquitto_pub', [...base, '-m', 'sneaky']);
      expect(anonymous.code).to.not.equal(0);
      expect(anonymous.stderr).to.match(/Connection Refused: bad user name or password/);
      const wrong = await run('mosquitto_pub', [...base, '-u', user.username, '-P', 'wrong', '-m', 'sneaky']);
      expect(wrong.code).to.not.equal(0);
      expect(wrong.stderr).to.match(/Connection Refused: bad user name or password/);
      // a message that does get through is delivered after the earlier one, so nothing sneaked in before it
      await run('mosquitto_pub', [...base, '-u', user.username, '-P', user.password, '-m', 'marker']);
      await waitFor(() => got.length === 2, 'the marker');
      expect(got[1]).to.equal(`${TOPIC} marker`);
    });

    it('delivers what a BusClient publishes to mosquitto_sub', async () => {
      const broker = await ourBroker();
      const pub = await connect({ url: broker.url, clientId: 'interop-our-pub', ...user });
      const subscribed = run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-u', user.username, '-P', user.password,
        '-q', '1', '-t', FILTER, '-C', '1', '-v', '-i', 'interop-mosquitto-sub']);
      await waitFor(() => broker.clients() === 2, 'mosquitto_sub to connect');
      // it may not have subscribed yet: retained, so it gets it either way
      await pub.publish(TOPIC, '{"temp":37.2}', { retain: true });
      const out = await subscribed;
      expect(out.code, out.stderr).to.equal(0);
      expect(out.stdout).to.equal(`${TOPIC} {"temp":37.2}\n`);
    });
  });

  describe('TLS', () => {
    it('serves mqtts with a self-signed certificate to a client that trusts it, and to mosquitto_pub', async () => {
      const certDir = dir();
      const { keyFile, certFile } = makeCertificate(certDir);
      const cert = readFileSync(certFile);
      const broker = await ourBroker({ tls: { port: 0, key: readFileSync(keyFile), cert } });
      expect(broker.tlsPort).to.be.a('number').and.not.equal(broker.port);
      const url = `mqtts://localhost:${broker.tlsPort}`;

      const untrusting = await rejection(BusClient.connect({ url, clientId: 'interop-tls-untrusting', ...user }));
      expect(untrusting.message).to.match(/^bus: TLS to mqtts:\/\/localhost:\d+ failed: self[- ]signed certificate.*check the CA/);

      const got: string[] = [];
      const sub = await connect({ url, clientId: 'interop-tls-sub', ...user, ca: cert });
      await sub.subscribeDurable(FILTER, async (_t, p) => { got.push(p.toString()); });
      const pub = await connect({ url, clientId: 'interop-tls-pub', ...user, ca: cert });
      await pub.publish(TOPIC, 'over tls');
      const external = await run('mosquitto_pub', ['-h', 'localhost', '-p', String(broker.tlsPort), '--cafile', certFile,
        '-u', user.username, '-P', user.password, '-q', '1', '-t', TOPIC, '-m', 'mosquitto over tls']);
      expect(external.code, external.stderr).to.equal(0);
      await waitFor(() => got.length === 2, 'both messages');
      expect(got).to.deep.equal(['over tls', 'mosquitto over tls']);
    });
  });
});
