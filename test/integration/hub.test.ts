import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { BusClient } from '../../adapters/bus';
import { encodeMessage, frame, MllpClient } from '../../adapters/hl7';
import { SimulatedRecord } from '../../simulators/record';
import { freePort, tempDir } from '../support/net';
import { httpStatus, startHubProcess, waitUntil, type HubProcess } from '../support/hub-process';
import { makeCertificate } from '../support/certificate';
import { parseWithPython, pyComponents, pyField, type PyMessage } from '../support/python-hl7';
import { sharedFixture } from '../support/shared';

const ROOT = resolve(__dirname, '..', '..', '..');
const EXAMPLE = join(ROOT, 'docs', 'schema', 'result.example.json');
const RESULT_TOPIC = 'passerelle/v1/test-site/biology/yumizen-h500-1/result';
const run = promisify(execFile);

/** The site flow plus a second "to the record" node writing 8859/1 to another listener. */
function flowWithLatin1Record(dir: string, latin1Port: number): string {
  const flow = JSON.parse(readFileSync(join(ROOT, 'flows', 'site.json'), 'utf8')) as Array<Record<string, unknown>>;
  const utf8 = flow.find((n) => n.type === 'passerelle-to-record')!;
  utf8.retryMax = 1;
  flow.push({ ...utf8, id: 'latin1-to-record', name: 'record (8859/1)', charset: '8859/1', endpoint: `127.0.0.1:${latin1Port}`, wires: [[]] });
  const file = join(dir, 'flow.json');
  writeFileSync(file, JSON.stringify(flow));
  return file;
}

/** The parts of an ORU the test compares, as python3-hl7 read them. */
function readOru(m: PyMessage) {
  const obxCount = m.segments.filter((seg) => seg.name === 'OBX').length;
  const obx = Array.from({ length: obxCount }, (_, k) => ({
    code: pyComponents(m, 'OBX', 3, k + 1) ?? [],
    value: (pyComponents(m, 'OBX', 5, k + 1) ?? []).join('^'),
    unit: pyComponents(m, 'OBX', 6, k + 1)?.[0] ?? '',
    flags: pyComponents(m, 'OBX', 8, k + 1)?.[0] ?? '',
  }));
  return {
    type: (pyComponents(m, 'MSH', 9) ?? []).join('^'),
    charset: pyComponents(m, 'MSH', 18)?.[0],
    names: (pyField(m, 'PID', 5) ?? []).map((repetition) => repetition.slice(0, 3).map((c) => c[0])),
    identifiers: (pyField(m, 'PID', 3) ?? []).map((repetition) => repetition[0][0]),
    obx,
  };
}

function mosquittoPub(port: number, topic: string, file: string, extra: string[] = []): Promise<unknown> {
  return run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', topic, '-f', file, ...extra]);
}

describe('the hub, started as the README says', function () {
  this.timeout(120_000);
  let data: ReturnType<typeof tempDir>;
  let utf8Record: SimulatedRecord;
  let latin1Record: SimulatedRecord;
  let hub: HubProcess;

  before(async () => {
    data = tempDir();
    utf8Record = await new SimulatedRecord().start();
    latin1Record = await new SimulatedRecord().start();
    hub = await startHubProcess(join(data.dir, 'hub'), {
      EHR_MLLP: `127.0.0.1:${utf8Record.port}`,
      PASSERELLE_FLOW_FILE: flowWithLatin1Record(data.dir, latin1Record.port),
    });
    await waitUntil(async () => (await fetch(`${hub.url}/passerelle/api/health`)).status === 200, 30_000, () => `flows running:\n${hub.output()}`);
  });

  after(async () => {
    await hub?.stop();
    await utf8Record?.stop();
    await latin1Record?.stop();
    data?.remove();
  });

  it('reports its health and says it runs as an open loopback demo', async () => {
    const health = await (await fetch(`${hub.url}/passerelle/api/health`)).json();
    expect(health).to.include({ status: 'ok', site: 'test-site', flows: 'running', demo: true });
    expect(health.bus.embedded).to.equal(true);
    expect(hub.output()).to.contain('DEMO MODE');
  });

  it('shows the Passerelle nodes in the editor palette', async () => {
    const res = await fetch(`${hub.url}/nodes`, { headers: { accept: 'application/json' } });
    const sets = (await res.json()) as Array<{ module: string; types: string[]; enabled: boolean; err?: string }>;
    const declared = Object.keys(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))['node-red'].nodes as Record<string, string>).sort();
    const ours = sets.filter((s) => s.module === '@passerelle/node-red-passerelle');
    expect(ours.map((s) => s.err ?? 'ok')).to.deep.equal(declared.map(() => 'ok'));
    expect(ours.flatMap((s) => s.types).sort()).to.deep.equal(declared);
    expect(declared).to.include.members(['passerelle-bus', 'passerelle-hl7-in', 'passerelle-to-record']);
    const editor = await (await fetch(`${hub.url}/nodes`, { headers: { accept: 'text/html' } })).text();
    expect(editor).to.contain('data-template-name="passerelle-to-record"');
  });

  it('delivers the documented example, published by mosquitto_pub, as an ORU python3-hl7 reads exactly, in both charsets', async () => {
    await mosquittoPub(hub.mqttPort, RESULT_TOPIC, EXAMPLE);
    await utf8Record.waitFor(1);
    await latin1Record.waitFor(1);
    const example = JSON.parse(readFileSync(EXAMPLE, 'utf8'));

    const utf8 = readOru(parseWithPython(utf8Record.received[0].bytes));
    expect(utf8.type).to.equal('ORU^R01^ORU_R01');
    expect(utf8.charset).to.equal('UNICODE UTF-8');
    expect(utf8.names).to.deep.include(['NOËL', 'Hélène', 'Françoise']);
    expect(utf8.names).to.deep.include(['LEFÈVRE', 'Hélène', 'Françoise']);
    expect(utf8.identifiers).to.include('284037512345678');
    expect(utf8.obx).to.have.length(example.observations.length);
    expect(utf8.obx.map((o) => o.value)).to.deep.equal(['12.4', '10.9', '254', '<^5', 'Présence de quelques myélocytes ; contrôle au frottis conseillé']);
    expect(utf8.obx.map((o) => o.unit)).to.deep.equal(['10*9/L', 'g/dL', '10*9/L', 'mg/L', '']);
    expect(utf8.obx.map((o) => o.flags)).to.deep.equal(['H', 'L', 'N', 'N', '']);
    expect(utf8.obx[0].code).to.deep.equal(['6690-2', 'Leucocytes', 'LN', 'WBC', 'WBC', '99HRB']);
    expect(utf8Record.received[0].text).to.contain('CŒURDEROY');

    const latin1Bytes = latin1Record.received[0].bytes;
    expect(latin1Bytes.includes(Buffer.from('Hélène', 'latin1'))).to.equal(true);
    const latin1 = readOru(parseWithPython(latin1Bytes));
    expect(latin1.charset).to.equal('8859/1');
    expect(latin1.names).to.deep.include(['NOËL', 'Hélène', 'Françoise']);
    expect(latin1.obx).to.deep.equal(utf8.obx);
    expect(latin1Record.received[0].text).to.contain('COEURDEROY'); // Œ is not in Latin-1
  });

  it('lists the result with its deliveries accepted by both records', async () => {
    await waitUntil(async () => {
      const page = await (await fetch(`${hub.url}/passerelle/api/results?limit=5`)).json();
      const deliveries = page.results[0]?.deliveries ?? [];
      return deliveries.length === 2 && deliveries.every((d: { state: string }) => d.state === 'accepted');
    }, 20_000, () => 'both deliveries accepted');
    const page = await (await fetch(`${hub.url}/passerelle/api/results?limit=5`)).json();
    expect(page.results[0].id).to.equal('0b5c2a6e-7f1d-4c8e-9a53-3e2f0d9b6a41');
    expect(page.results[0].observationCount).to.equal(5);
  });

  it('re-sends a delivered message on request, with the same control id', async () => {
    const { messages } = await (await fetch(`${hub.url}/passerelle/api/outbound?destination=site-to-record&state=accepted`)).json();
    const first = messages.find((m: { resultId: string }) => m.resultId === '0b5c2a6e-7f1d-4c8e-9a53-3e2f0d9b6a41');
    expect(first.payload, 'the list carries no patient data').to.equal(undefined);
    const before = utf8Record.received.length;
    const res = await fetch(`${hub.url}/passerelle/api/outbound/${first.id}/resend`, { method: 'POST' });
    expect(res.status).to.equal(202);
    await utf8Record.waitFor(before + 1);
    expect(utf8Record.received[before].controlId).to.equal(first.controlId);
    expect(utf8Record.received[before].bytes.equals(utf8Record.received[0].bytes)).to.equal(true);
    const pending = await fetch(`${hub.url}/passerelle/api/outbound/999999/resend`, { method: 'POST' });
    expect(pending.status).to.equal(404);
  });

  it('refuses a malformed result with an error event, keeps its bytes, and goes on', async () => {
    const watcher = await BusClient.connect({ url: hub.mqttUrl, clientId: 'test-error-watcher' });
    const errors: Array<Record<string, string>> = [];
    await watcher.subscribeDurable('passerelle/v1/test-site/hub/+/error', async (_t, p) => { errors.push(JSON.parse(p.toString())); });
    const bad = join(data.dir, 'bad.json');
    writeFileSync(bad, '{"schema":"passerelle.result/1","id":"broken"');
    await mosquittoPub(hub.mqttPort, RESULT_TOPIC, bad);
    await waitUntil(() => errors.length >= 2, 10_000, () => 'two error events (one per destination node)');
    expect(errors[0].error).to.match(/not JSON/);
    expect(errors[0].journalId).to.be.a('string');

    const next = JSON.parse(readFileSync(EXAMPLE, 'utf8'));
    next.id = 'second-result';
    const good = join(data.dir, 'good.json');
    writeFileSync(good, JSON.stringify(next));
    await mosquittoPub(hub.mqttPort, RESULT_TOPIC, good);
    await utf8Record.waitFor(2);
    expect(utf8Record.received[1].text).to.contain('NOËL');
    await watcher.close();
  });

  it('accepts HL7 on its MLLP input: journal first, then AA with MSA-2 = MSH-10, then the bus', async () => {
    const watcher = await BusClient.connect({ url: hub.mqttUrl, clientId: 'test-hl7-watcher' });
    const seen: Array<Record<string, string>> = [];
    await watcher.subscribeDurable('passerelle/v1/test-site/hl7/+/message', async (_t, p) => { seen.push(JSON.parse(p.toString())); });
    const client = new MllpClient({ host: '127.0.0.1', port: Number(hub.env.MLLP_IN_PORT) });
    const order = readFileSync(sharedFixture('hl7', 'orm-o01_radiology-order_mesa.hl7'));
    const controlId = /^MSH(?:\|[^|\r]*){8}\|([^|\r]*)/.exec(order.toString('latin1'))![1];
    const ack = await client.send(order, controlId, 10_000);
    expect(ack.code).to.equal('AA');
    expect(ack.controlId).to.equal(controlId);
    await waitUntil(() => seen.length > 0, 10_000, () => 'the order on the bus');
    expect(seen[0].messageType).to.match(/^ORM\^O01/);
    expect(seen[0].controlId).to.equal(controlId);
    expect(seen[0].journalId).to.be.a('string');
    await client.close();
    await watcher.close();
  });

  it('answers AR to bytes that are not HL7 and keeps them', async () => {
    const port = Number(hub.env.MLLP_IN_PORT);
    const socket = await import('node:net').then((net) => net.connect(port, '127.0.0.1'));
    const reply = await new Promise<string>((resolveReply) => {
      let buffer = '';
      socket.on('data', (d) => { buffer += d.toString('latin1'); if (buffer.includes('\x1c\r')) resolveReply(buffer); });
      socket.write(frame(encodeMessage('this is not HL7', 'UNICODE UTF-8').bytes));
    });
    socket.destroy();
    expect(reply).to.match(/MSA\|AR\|/);
  });
});

describe('the hub, secure by default', function () {
  this.timeout(60_000);

  it('refuses to start on a network address without credentials, and says what to set', async () => {
    const data = tempDir();
    const cli = resolve(__dirname, '..', '..', 'gateway', 'cli.js');
    try {
      execFileSync(process.execPath, [cli], { env: { PATH: process.env.PATH, HOST: '0.0.0.0', PORT: String(await freePort()), PASSERELLE_DATA_DIR: data.dir }, stdio: 'pipe' });
      expect.fail('the hub started open on 0.0.0.0');
    } catch (err) {
      const e = err as { status: number; stderr: Buffer };
      expect(e.status).to.equal(2);
      expect(e.stderr.toString()).to.contain('PASSERELLE_ADMIN_USER').and.contain('MQTT_USERNAME');
    } finally {
      data.remove();
    }
  });

  it('with credentials: the API wants the editor login and the broker wants its user', async () => {
    const data = tempDir();
    const hub = await startHubProcess(data.dir, {
      PASSERELLE_ADMIN_USER: 'technicien',
      PASSERELLE_ADMIN_PASSWORD: 'mot-de-passe-long',
      MQTT_USERNAME: 'hub',
      MQTT_PASSWORD: 'secret-mqtt',
    });
    try {
      expect((await fetch(`${hub.url}/passerelle/api/health`)).status).to.equal(401);
      expect((await fetch(`${hub.url}/passerelle/api/results`)).status).to.equal(401);
      const tokenRes = await fetch(`${hub.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'technicien', password: 'mot-de-passe-long' }),
      });
      const { access_token: token } = (await tokenRes.json()) as { access_token: string };
      await waitUntil(async () => (await fetch(`${hub.url}/passerelle/api/health`, { headers: { authorization: `Bearer ${token}` } })).status === 200, 20_000);
      expect(hub.output()).not.to.contain('DEMO MODE');
      const denied = await mosquittoPub(hub.mqttPort, RESULT_TOPIC, EXAMPLE).then(() => 'published', (e: { stderr: string }) => e.stderr);
      expect(denied).to.match(/not authori[sz]ed|Connection Refused|refused/i);
      await mosquittoPub(hub.mqttPort, RESULT_TOPIC, EXAMPLE, ['-u', 'hub', '-P', 'secret-mqtt']);
    } finally {
      await hub.stop();
      data.remove();
    }
  });

  it('serves HTTPS and MQTTS with the site certificate, and stops cleanly on SIGTERM', async () => {
    const data = tempDir();
    const certificate = makeCertificate(data.dir);
    const mqttsPort = await freePort();
    const hub = await startHubProcess(join(data.dir, 'hub'), {
      PASSERELLE_TLS_CERT: certificate.certFile,
      PASSERELLE_TLS_KEY: certificate.keyFile,
      MQTTS_PORT: String(mqttsPort),
    });
    try {
      expect(hub.url).to.match(/^https:/);
      await waitUntil(async () => (await httpStatus(`${hub.url}/passerelle/api/health`, certificate.certFile)) === 200, 20_000);
      const untrusted = await httpStatus(`${hub.url}/passerelle/api/health`).then(String, (err: Error) => err.message);
      expect(untrusted).to.match(/self[- ]signed/i);
      await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mqttsPort), '--cafile', certificate.certFile, '-q', '1', '-t', RESULT_TOPIC, '-f', EXAMPLE]);
    } finally {
      expect(await hub.stop(), 'exit code after SIGTERM').to.equal(0);
      expect(hub.output()).to.contain('SIGTERM: stopping');
      data.remove();
    }
  });
});
