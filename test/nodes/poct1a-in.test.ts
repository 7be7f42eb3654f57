import { expect } from 'chai';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { BusClient } from '../../adapters/bus';
import { Store, type InboundEntry } from '../../adapters/journal';
import type { Result } from '../../adapters/model';
import { Poct1Writer, SimulatedDevice, sampleObservations, type SimulatedObservations, type RawDeviceMessage } from '../../adapters/poct1a';
import { freePort, tempDir } from '../support/net';
import { makeCertificate } from '../support/certificate';
import { waitUntil } from '../support/hub-process';
import { simulatePoct1a } from '../../simulators/poct1a-device';
import { busNode, helper, startHarness, statusesOf, type Harness } from './harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const poct1aInNode = require('../../nodes/poct1a-in/poct1a-in.js');

/** 2026-11-23 09:30:00 UTC, 10:30 in Paris: the device's clock in these tests. */
const AT = Date.UTC(2026, 10, 23, 9, 30, 0);
const DEVICE = 'SIM-HBA1C-0001';
const CHANNEL = `poct1a:${DEVICE}`;

interface OutMsg { topic: string; payload: Result; journalId: string; category: string }

async function assertRejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const outcome = await promise.then(() => undefined, (err: Error) => err);
  expect(outcome, 'rejected').to.be.instanceOf(Error);
  expect(outcome!.message).to.match(pattern);
}

/**
 * A TCP relay in front of the node that records every byte the device sends; with `tls`, it
 * speaks TLS to the node (the simulated device speaks plain TCP).
 */
async function recordingRelay(target: number, tls?: { ca: Buffer }): Promise<{ port: number; sent: () => Buffer; close: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((device) => {
    const upstream = tls ? tlsConnect({ host: '127.0.0.1', port: target, ca: tls.ca, servername: 'localhost' }) : connect(target, '127.0.0.1');
    sockets.add(device).add(upstream);
    device.on('data', (d: Buffer) => { chunks.push(d); upstream.write(d); });
    upstream.on('data', (d: Buffer) => device.write(d));
    device.on('end', () => upstream.end());
    upstream.on('end', () => device.end());
    device.on('error', () => upstream.destroy());
    upstream.on('error', () => device.destroy());
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    port,
    sent: () => Buffer.concat(chunks),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('passerelle-poct1a-in node', function () {
  this.timeout(30_000);
  let harness: Harness;
  let port: number;
  let loadedAt = 0;

  before(async () => { harness = await startHarness(); });
  after(async () => { await harness.stop(); });
  afterEach(async () => { await helper.unload(); });

  async function load(extra: Record<string, unknown> = {}) {
    port = await freePort();
    loadedAt = Date.now();
    await helper.load([busNode, poct1aInNode], [
      { id: 'bus', type: 'passerelle-bus', mode: 'hub' },
      {
        id: 'in', type: 'passerelle-poct1a-in', bus: 'bus', host: '127.0.0.1', port, deviceClass: 'hba1c', deviceIdFrom: 'hel', deviceId: '',
        idleTimeout: 30, afterEndOfTopic: 'end', wires: [['patients'], ['qc']], ...extra,
      },
      { id: 'patients', type: 'helper' },
      { id: 'qc', type: 'helper' },
    ]);
    const patients: OutMsg[] = [];
    const qc: OutMsg[] = [];
    helper.getNode('patients').on('input', (msg: OutMsg) => patients.push(msg));
    helper.getNode('qc').on('input', (msg: OutMsg) => qc.push(msg));
    const errors: Array<{ text: string; msg: { payload: Record<string, unknown> } }> = [];
    helper.getNode('in').on('call:error', (call: { args: unknown[] }) => errors.push({ text: String(call.args[0]), msg: call.args[1] as { payload: Record<string, unknown> } }));
    await waitUntil(() => statusesOf(helper.getNode('in')).some((s) => s.fill === 'green'), 5000, () => 'listening');
    return { patients, qc, errors };
  }

  async function watch(name: string) {
    const watcher = await BusClient.connect({ url: harness.broker.url, clientId: `poct1a-in-test-${name}` });
    const onBus: Array<{ topic: string; payload: Result }> = [];
    await watcher.subscribeDurable('passerelle/v1/node-site/#', async (topic, payload) => { onBus.push({ topic, payload: JSON.parse(payload.toString()) }); });
    return { watcher, onBus };
  }

  /** The device channel's entries journaled since this test loaded its flow (the data dir is shared by the file). */
  function journal(): { entries: InboundEntry[]; close: () => void } {
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    const entries = store.listInbound({ channel: CHANNEL, limit: 1000 }).filter((e) => e.receivedAt >= loadedAt).sort((a, b) => (a.id < b.id ? -1 : 1));
    return { entries, close: () => store.close() };
  }

  /** Each document is found, in order, in what the device sent; returns what is left (ACKs). */
  function leftOver(sent: Buffer, documents: Buffer[]): string {
    let rest = sent.toString('utf8');
    for (const doc of documents) {
      const i = rest.indexOf(doc.toString('utf8'));
      expect(i, 'journaled bytes are exactly what the device sent').to.be.greaterThan(-1);
      rest = rest.slice(0, i) + rest.slice(i + doc.length);
    }
    return rest;
  }

  it('takes a conversation of 2 patients and 1 QC: results on the output and the bus, QC apart, every document journaled', async () => {
    const { watcher, onBus } = await watch('conversation');
    const { patients, qc, errors } = await load();
    const relay = await recordingRelay(port);
    const device = new SimulatedDevice({ port: relay.port, now: () => AT });
    const report = await device.run();
    await relay.close();

    expect(report.ended, 'the hub sent END and the device acknowledged it').to.equal(true);
    expect(report.exchanges.map((e) => [e.type, e.ack.type])).to.deep.equal([
      ['HEL.R01', 'AA'], ['DST.R01', 'AA'], ['OBS.R01', 'AA'], ['OBS.R01', 'AA'], ['OBS.R02', 'AA'], ['EOT.R01', 'AA'],
    ]);
    expect(report.received.map((m) => m.type)).to.include.members(['REQ.R01', 'END.R01']);
    expect(errors).to.deep.equal([]);

    await waitUntil(() => patients.length === 2 && qc.length === 1 && onBus.length === 3, 5000, () => `outputs ${patients.length}+${qc.length}, bus ${onBus.length}`);
    const resultTopic = `passerelle/v1/node-site/biology/${DEVICE}/result`;
    const qcTopic = `passerelle/v1/node-site/biology/${DEVICE}/qc`;

    // Patients: values, units, times from SVC.observation_dttm (12 and 7 minutes before AT, Paris time).
    expect(patients.map((m) => m.topic)).to.deep.equal([resultTopic, resultTopic]);
    const [first, second] = patients.map((m) => m.payload);
    expect(first.patient?.identifiers?.[0]?.value).to.equal('SIM-PAT-001');
    expect(second.patient?.identifiers?.[0]?.value).to.equal('SIM-PAT-002');
    expect(first.source).to.include({ site: 'node-site', deviceClass: 'hba1c', deviceId: DEVICE, protocol: 'poct1a' });
    expect(first.observations.map((o) => [o.deviceCode.code, o.value, o.unit?.code])).to.deep.equal([['4548-4', 6.1, '%'], ['HbA1c_IFCC', 43, 'mmol/mol']]);
    expect(second.observations.map((o) => [o.deviceCode.code, o.value, o.unit?.code])).to.deep.equal([['4548-4', 5.4, '%'], ['HbA1c_IFCC', 36, 'mmol/mol']]);
    expect(first.observations[0].flags).to.deep.equal(['H']);
    expect(first.times.analysed).to.equal('2026-11-23T10:18:00+01:00');
    expect(second.times.analysed).to.equal('2026-11-23T10:23:00+01:00');
    expect(Date.parse(first.times.received)).to.be.greaterThan(AT);

    // The bus carries the same results, by id; the QC only on the qc topic.
    const busResults = onBus.filter((m) => m.topic === resultTopic).map((m) => m.payload);
    expect(busResults.map((r) => r.id).sort()).to.deep.equal([first.id, second.id].sort());
    expect(busResults.find((r) => r.id === first.id)).to.deep.equal(first);
    const busQc = onBus.filter((m) => m.topic === qcTopic);
    expect(busQc).to.have.length(1);
    expect(onBus.every((m) => m.topic === resultTopic || m.topic === qcTopic)).to.equal(true);
    expect(qc[0].topic).to.equal(qcTopic);
    expect(qc[0].category).to.equal('qc');
    expect(qc[0].payload.patient, 'a QC result never carries a patient').to.equal(undefined);
    expect(qc[0].payload.observations[0].value).to.equal(5.3);
    expect(busQc[0].payload.id).to.equal(qc[0].payload.id);
    expect(patients.some((m) => m.payload.id === qc[0].payload.id)).to.equal(false);

    // Each result is marked published once the broker has acknowledged it (just after it delivered it).
    await waitUntil(() => {
      const { entries, close } = journal();
      close();
      return entries.filter((e) => e.contentType === 'application/json' && e.publishedAt !== undefined).length === 3;
    }, 5000, () => 'results marked published');

    // The journal: each device document with its exact bytes (accepted), then each result's JSON with its topic.
    const { entries, close } = journal();
    try {
      const documents = entries.filter((e) => e.contentType === 'application/xml');
      expect(documents.map((e) => e.status)).to.deep.equal(Array(6).fill('accepted'));
      const rest = leftOver(relay.sent(), documents.map((e) => e.raw));
      // Left over: only the device's two ACKs (of REQ and of END), which the manager consumes.
      expect(rest.match(/<ACK\.R01/g)).to.have.length(2);
      expect(rest).not.to.match(/<(HEL|DST|OBS|EOT)\.R0/);
      const results = entries.filter((e) => e.contentType === 'application/json');
      expect(results.map((e) => e.publishTopic)).to.deep.equal([resultTopic, resultTopic, qcTopic]);
      const firstEntry = results.find((e) => e.resultId === first.id)!;
      expect(JSON.parse(firstEntry.raw.toString('utf8'))).to.deep.equal(first);
      // The result points back at the document it came from.
      const obsDocument = documents.find((d) => d.id === first.raw?.journalId)!;
      expect(obsDocument.raw.toString('utf8')).to.contain('SIM-PAT-001');
    } finally {
      close();
    }

    // The status named the device while it was connected, and the last result after.
    const statuses = statusesOf(helper.getNode('in'));
    expect(statuses.some((s) => s.text?.startsWith(DEVICE)), JSON.stringify(statuses)).to.equal(true);
    // The last result (or error) part stays under 20 characters.
    expect(statuses.every((s) => (s.text ?? '').split(' · ')[1] === undefined || s.text!.split(' · ')[1].length < 20), JSON.stringify(statuses)).to.equal(true);
    expect(statuses.some((s) => s.text === `${DEVICE} · QC HbA1c 5.3 %`), 'a QC result is marked as such').to.equal(true);
    await watcher.close();
  });

  it('answers AE to an OBS that cannot be read, journals its bytes as rejected, and the conversation goes on', async () => {
    const { patients, qc, errors } = await load();
    const [patient1, patient2] = sampleObservations(AT) as SimulatedObservations[];
    // Well-formed, but SVC.observation_dttm is not a date: no result can be made of it.
    const broken = new Poct1Writer({ firstControlId: 7001, now: () => AT }).obs('OBS.R01', [{ ...patient1.services[0], observationTime: 'yesterday', patient: { id: 'SIM-PAT-009' } }]);
    const observations: Array<SimulatedObservations | RawDeviceMessage> = [patient1, { raw: broken.bytes, controlId: broken.controlId }, patient2];
    const report = await new SimulatedDevice({ port, now: () => AT, observations }).run();

    expect(report.ended).to.equal(true);
    expect(report.exchanges.map((e) => [e.type, e.ack.type])).to.deep.equal([
      ['HEL.R01', 'AA'], ['DST.R01', 'AA'], ['OBS.R01', 'AA'], ['raw', 'AE'], ['OBS.R01', 'AA'], ['EOT.R01', 'AA'],
    ]);
    const ae = report.exchanges[3].ack;
    expect(ae.ackControlId).to.equal(broken.controlId);
    expect(ae.note ?? '').to.match(/observation_dttm/);
    expect(ae.note ?? '', 'the note names the element, never a value').not.to.contain('SIM-PAT-009');

    await waitUntil(() => patients.length === 2, 5000, () => `patients ${patients.length}`);
    expect(patients.map((m) => m.payload.patient?.identifiers?.[0]?.value)).to.deep.equal(['SIM-PAT-001', 'SIM-PAT-002']);
    expect(qc).to.have.length(0);

    expect(errors).to.have.length(1);
    expect(errors[0].text).to.equal('passerelle-poct1a-in.errors.rejected');
    expect(errors[0].msg.payload).to.include({ device: DEVICE, controlId: broken.controlId, messageType: 'OBS.R01' });
    const { entries, close } = journal();
    try {
      const rejected = entries.filter((e) => e.status === 'rejected');
      expect(rejected).to.have.length(1);
      expect(rejected[0].raw.equals(broken.bytes), 'the rejected bytes are kept exactly').to.equal(true);
      expect(rejected[0].id).to.equal(errors[0].msg.payload.journalId);
      expect(rejected[0].publishTopic).to.equal(undefined);
    } finally {
      close();
    }
    const statuses = statusesOf(helper.getNode('in'));
    // After the rejection: a yellow ring, the device, and what was rejected (the key here: tests run without catalogues).
    expect(statuses.some((s) => s.fill === 'yellow' && s.text?.startsWith(`${DEVICE} · passerelle-poct1a`)), JSON.stringify(statuses)).to.equal(true);
    expect(statuses.at(-1)?.fill, 'green again once a result came in').to.equal('green');
  });

  it('takes what the simulator entry sends (npm run simulate -- poct1a), and prints the conversation', async () => {
    const { patients, qc, errors } = await load();
    const printed: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => { printed.push(args.join(' ')); };
    try {
      await simulatePoct1a(['--host', '127.0.0.1', '--port', String(port), '--patients', '3', '--qc', '2']);
    } finally {
      console.log = log;
    }
    await waitUntil(() => patients.length === 3 && qc.length === 2, 5000, () => `outputs ${patients.length}+${qc.length}`);
    expect(errors).to.deep.equal([]);
    expect(patients.map((m) => m.payload.patient?.identifiers?.[0]?.value)).to.deep.equal(['SIM-PAT-001', 'SIM-PAT-002', 'SIM-PAT-003']);
    expect(patients.map((m) => m.payload.observations[0].value)).to.deep.equal([5, 5.7, 6.4]);
    expect(qc.every((m) => m.topic.endsWith('/qc') && m.payload.patient === undefined)).to.equal(true);
    const text = printed.join('\n');
    expect(text).to.match(/← REQ ROBS/);
    expect(text.match(/→ OBS\.R01 \S+ {2}ACK AA/g)).to.have.length(3);
    expect(text.match(/→ OBS\.R02 \S+ {2}ACK AA/g)).to.have.length(2);
    expect(text).to.contain('ended: the hub sent END');
    await assertRejects(simulatePoct1a(['--port', '0']), /--port 0/);
  });

  it('answers AE to bytes that are not well-formed XML, keeps them as rejected, and reads the next message', async () => {
    const { patients, errors } = await load();
    const broken = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<OBS.R01><HDR><HDR.control_id V="8001"/><HDR.version_id V="POCT1"/>'
      + '<HDR.creation_dttm V="2026-11-23T10:29:00+01:00"/></HDR><SVC><PT></SVC></OBS.R01>\n', 'utf8');
    const [patient1, patient2] = sampleObservations(AT);
    const report = await new SimulatedDevice({ port, now: () => AT, observations: [patient1, { raw: broken, controlId: '8001' }, patient2] }).run();
    expect(report.ended).to.equal(true);
    expect(report.exchanges.map((e) => e.ack.type)).to.deep.equal(['AA', 'AA', 'AA', 'AE', 'AA', 'AA']);
    expect(report.exchanges[3].ack.note).to.match(/well-formed/);
    await waitUntil(() => patients.length === 2, 5000, () => `patients ${patients.length}`);
    expect(errors.map((e) => e.text)).to.deep.equal(['passerelle-poct1a-in.errors.rejected']);
    const { entries, close } = journal();
    try {
      const rejected = entries.filter((e) => e.status === 'rejected');
      expect(rejected).to.have.length(1);
      expect(rejected[0].raw.toString('utf8').trim()).to.equal(broken.toString('utf8').trim());
      expect(rejected[0].error).to.match(/well-formed/);
    } finally {
      close();
    }
  });

  it('listens over TLS with a core tls-config node', async () => {
    const dir = tempDir('poct1a-tls-');
    try {
      const certificate = makeCertificate(dir.dir);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const tlsConfigNode = require('@node-red/nodes/core/network/05-tls.js');
      port = await freePort();
      await helper.load([busNode, poct1aInNode, tlsConfigNode], [
        { id: 'tls', type: 'tls-config', cert: certificate.certFile, key: certificate.keyFile, ca: '', verifyservercert: false },
        { id: 'in', type: 'passerelle-poct1a-in', host: '127.0.0.1', port, tls: 'tls', deviceClass: 'hba1c', deviceIdFrom: 'hel', idleTimeout: 30, afterEndOfTopic: 'end', wires: [['patients'], []] },
        { id: 'patients', type: 'helper' },
      ]);
      const patients: OutMsg[] = [];
      helper.getNode('patients').on('input', (msg: OutMsg) => patients.push(msg));
      await waitUntil(() => statusesOf(helper.getNode('in')).some((s) => s.fill === 'green'), 5000, () => 'listening');
      const relay = await recordingRelay(port, { ca: certificate.cert });
      const report = await new SimulatedDevice({ port: relay.port, now: () => AT, observations: [sampleObservations(AT)[0]] }).run();
      await relay.close();
      expect(report.ended).to.equal(true);
      await waitUntil(() => patients.length === 1, 5000, () => 'a result over TLS');
      expect(patients[0].payload.observations[0].value).to.equal(6.1);
      // Plain TCP is refused: the TLS handshake fails and nothing is read.
      const plain = connect(port, '127.0.0.1');
      plain.write('<HEL.R01>');
      await new Promise<void>((resolve) => plain.on('close', () => resolve()).on('error', () => undefined));
    } finally {
      dir.remove();
    }
  });

  it('closes open device connections and its listener when the flow stops, within 15 s', async () => {
    await load({ afterEndOfTopic: 'stay' });
    const device = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => device.once('connect', () => resolve()));
    const closed = new Promise<void>((resolve) => device.on('close', () => resolve()).on('error', () => undefined));
    device.on('data', () => undefined);
    device.on('end', () => device.end());
    await waitUntil(() => statusesOf(helper.getNode('in')).some((s) => /^127\.0\.0\.1:/.test(s.text ?? '')), 5000, () => 'connection shown');
    const started = Date.now();
    await helper.unload();
    await closed;
    expect(Date.now() - started).to.be.lessThan(15_000);
    const again = connect(port, '127.0.0.1');
    const refused = await new Promise<boolean>((resolve) => { again.on('error', () => resolve(true)); again.on('connect', () => { again.destroy(); resolve(false); }); });
    expect(refused, 'the port is released').to.equal(true);
  });

  it('finds the patient of a result that carries only a specimen id through the order, never for a QC', async () => {
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      store.indexOrder({ specimenId: 'SPC-POCT-42', placerNumber: 'CMD-42', patient: { identifiers: [{ value: 'IPP-42', type: 'PI' }], matched: true, matchedBy: 'order' } });
    } finally {
      store.close();
    }
    const { patients, qc } = await load();
    const [patient1, , qc1] = sampleObservations(AT);
    const noPatient = { messageType: 'OBS.R01' as const, services: [{ ...patient1.services[0], patient: undefined, specimen: { id: 'SPC-POCT-42' } }] };
    const qcWithSpecimen = { ...qc1, services: [{ ...qc1.services[0], specimen: { id: 'SPC-POCT-42' } }] };
    const report = await new SimulatedDevice({ port, now: () => AT, observations: [noPatient, qcWithSpecimen] }).run();
    expect(report.exchanges.map((e) => e.ack.type)).to.deep.equal(['AA', 'AA', 'AA', 'AA', 'AA']);
    await waitUntil(() => patients.length === 1 && qc.length === 1, 5000, () => `outputs ${patients.length}+${qc.length}`);
    expect(patients[0].payload.patient).to.deep.include({ matched: true, matchedBy: 'order' });
    expect(patients[0].payload.patient?.identifiers[0].value).to.equal('IPP-42');
    expect(patients[0].payload.order?.placerNumber).to.equal('CMD-42');
    expect(qc[0].payload.patient, 'a QC result is never matched to a patient').to.equal(undefined);
    // What was journaled for the bus is the matched result.
    const { entries, close } = journal();
    try {
      const journaled = entries.find((e) => e.resultId === patients[0].payload.id)!;
      expect(JSON.parse(journaled.raw.toString('utf8')).patient.identifiers[0].value).to.equal('IPP-42');
    } finally {
      close();
    }
  });

  it('publishes at start what a crash left journaled but unpublished', async () => {
    const topic = 'passerelle/v1/node-site/biology/REPLAY-DEV/result';
    const payload = JSON.stringify({ replayed: true });
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    let journalId: string;
    try {
      journalId = store.journalInbound({ channel: 'poct1a:REPLAY-DEV', contentType: 'application/json', raw: Buffer.from(payload), status: 'accepted', publishTopic: topic });
    } finally {
      store.close();
    }
    const { watcher, onBus } = await watch('replay');
    await load();
    await waitUntil(() => onBus.some((m) => m.topic === topic), 5000, () => 'replayed on the bus');
    expect(onBus.find((m) => m.topic === topic)!.payload).to.deep.equal({ replayed: true });
    await waitUntil(() => {
      const check = Store.open({ dir: join(harness.dataDir, 'journal') });
      try {
        return check.getInbound(journalId)?.publishedAt !== undefined;
      } finally {
        check.close();
      }
    }, 5000, () => 'marked published');
    await watcher.close();
  });

  it('names the device with the site prefix when set to, and says when the port is not valid', async () => {
    await load({ deviceIdFrom: 'prefix', deviceId: 'annecy-hba1c' });
    const report = await new SimulatedDevice({ port, now: () => AT, observations: [sampleObservations(AT)[0]] }).run();
    expect(report.ended).to.equal(true);
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      const entries = store.listInbound({ channel: `poct1a:annecy-hba1c-${DEVICE}`, limit: 100 });
      const result = entries.find((e) => e.contentType === 'application/json')!;
      expect(result.publishTopic).to.equal(`passerelle/v1/node-site/biology/annecy-hba1c-${DEVICE}/result`);
    } finally {
      store.close();
    }
    await helper.unload();

    await helper.load([busNode, poct1aInNode], [{ id: 'bad', type: 'passerelle-poct1a-in', port: '70000', wires: [[], []] }]);
    const bad = helper.getNode('bad');
    expect(statusesOf(bad).at(-1)).to.include({ fill: 'grey' });
  });
});
