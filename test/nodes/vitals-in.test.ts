import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BusClient } from '../../adapters/bus';
import { Hl7Message } from '../../adapters/hl7';
import { Store } from '../../adapters/journal';
import type { Result } from '../../adapters/model';
import { SimulatedRecord } from '../../simulators/record';
import { simulatedBleReadings, simulatedVitals, toFhirBundle } from '../../simulators/cart';
import { waitUntil } from '../support/hub-process';
import { busNode, helper, startHarness, statusesOf, toRecordNode, type Harness, type TestNode } from './harness';

const vitalsInNode = require('../../nodes/vitals-in/vitals-in.js');
const ROOT = join(__dirname, '..', '..', '..');
const exampleText = () => readFileSync(join(ROOT, 'docs', 'schema', 'vitals.example.json'), 'utf8');
const SITE = 'node-site';

interface Loaded { node: TestNode; outputs: Array<{ topic: string; payload: Result }>; errors: string[] }

describe('passerelle-vitals-in node', function () {
  this.timeout(30_000);
  let harness: Harness;
  let publisher: BusClient;
  let watcher: BusClient;
  const seen: Array<{ topic: string; payload: Record<string, unknown> }> = [];

  before(async () => {
    harness = await startHarness();
    publisher = await BusClient.connect({ url: harness.broker.url, clientId: 'vitals-test-publisher' });
    watcher = await BusClient.connect({ url: harness.broker.url, clientId: 'vitals-test-watcher' });
    for (const filter of [`passerelle/v1/${SITE}/vitals/+/+`, `passerelle/v1/${SITE}/hub/+/error`]) {
      await watcher.subscribeDurable(filter, async (topic, payload) => { seen.push({ topic, payload: JSON.parse(payload.toString()) }); });
    }
  });
  after(async () => {
    await publisher.close();
    await watcher.close();
    await harness.stop();
  });
  beforeEach(() => { seen.length = 0; });
  afterEach(async () => { await helper.unload(); });

  async function load(props: Record<string, unknown> = {}, extra: object[] = [], nodes: unknown[] = []): Promise<Loaded> {
    const flow = [
      { id: 'bus', type: 'passerelle-bus', mode: 'hub' },
      { id: 'vit', type: 'passerelle-vitals-in', bus: 'bus', cart: true, fhir: true, ble: true, pcd01: true, deviceId: 'wired-cart', wires: [['out']], ...props },
      { id: 'out', type: 'helper' },
      ...extra,
    ];
    await helper.load([busNode, vitalsInNode, ...nodes], flow);
    const node = helper.getNode('vit');
    const outputs: Loaded['outputs'] = [];
    const errors: string[] = [];
    helper.getNode('out').on('input', (msg: { topic: string; payload: Result }) => outputs.push(msg));
    node.on('call:error', (call: { args: unknown[] }) => errors.push(String(call.args[0])));
    await waitUntil(() => statusesOf(node).some((s) => s.fill === 'green'), 5000, () => 'subscribed to the bus');
    return { node, outputs, errors };
  }

  it('turns the cart contract published on its topic into canonical vitals on the bus and the output, journaled', async () => {
    const { node, outputs } = await load();
    await publisher.publish(`passerelle/v1/${SITE}/cart/chariot-tlc-2/vitals`, exampleText());
    await waitUntil(() => seen.some((s) => s.topic.endsWith('/result')), 5000, () => 'the result on the bus');
    const onBus = seen.find((s) => s.topic === `passerelle/v1/${SITE}/vitals/chariot-tlc-2/result`)!.payload as unknown as Result;
    expect(onBus).to.deep.include({ kind: 'vitals', id: '6f1c9e2a-4b7d-4e38-9c05-2d8a1b7f3e90' });
    expect(onBus.observations).to.have.length(12);
    expect(outputs[0].payload.id).to.equal(onBus.id);
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      const raw = store.getInbound(onBus.raw!.journalId!)!;
      expect(raw.raw.toString('utf8')).to.equal(exampleText());
      expect(raw.status).to.equal('accepted');
    } finally {
      store.close();
    }
    // The test helper loads no catalogue: the status is its key, green.
    expect(statusesOf(node).pop()).to.include({ fill: 'green', text: 'passerelle-vitals-in.status.counts' });
  });

  it('takes FHIR from its input (an http in in front, say) and names it with the wire source', async () => {
    const { node, outputs } = await load();
    node.receive({ payload: toFhirBundle(simulatedVitals(0, 'c')) });
    await waitUntil(() => outputs.length > 0, 5000, () => 'the output');
    expect(outputs[0].topic).to.equal(`passerelle/v1/${SITE}/vitals/wired-cart/result`);
    expect(outputs[0].payload.source).to.deep.include({ protocol: 'fhir', deviceId: 'wired-cart' });
  });

  it('refuses bad input with an error event, keeps its bytes, and goes on with the next one', async () => {
    const { outputs, errors } = await load();
    const bad = JSON.parse(exampleText());
    bad.measurements[0].time = '2026-11-23T10:08:12';
    await publisher.publish(`passerelle/v1/${SITE}/cart/chariot-tlc-2/vitals`, JSON.stringify(bad));
    const garbage = { schema: 'passerelle.ble/1', address: '00:09:1F:12:34:56', characteristic: '2A35', value: '1E7800' };
    await publisher.publish(`passerelle/v1/${SITE}/ble/gw-1/reading`, JSON.stringify(garbage));
    await publisher.publish(`passerelle/v1/${SITE}/cart/chariot-tlc-2/vitals`, exampleText());
    await waitUntil(() => outputs.length === 1 && seen.filter((s) => s.topic.endsWith('/error')).length === 2, 5000, () => 'two errors, then the good one');
    const events = seen.filter((s) => s.topic === `passerelle/v1/${SITE}/hub/vit/error`).map((s) => s.payload);
    expect(events[0].error).to.contain('/measurements/0/time must match pattern');
    expect(events[1].error).to.equal('invalid vitals: blood pressure 0x2A35: diastolic needs 2 byte(s) at offset 3, the value has 3');
    expect(errors).to.deep.equal(['passerelle-vitals-in.errors.invalid', 'passerelle-vitals-in.errors.invalid']);
    expect(events.map((e) => e.error).join('\n'), 'no patient data in the error').not.to.contain('NOËL');
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      const rejected = store.getInbound(String(events[0].journalId))!;
      expect(rejected.status).to.equal('rejected');
      expect(JSON.parse(rejected.raw.toString()).measurements[0].time).to.equal('2026-11-23T10:08:12');
    } finally {
      store.close();
    }
  });

  it('reads PCD-01 ORUs the MLLP input put on the bus, and leaves other HL7 messages alone', async () => {
    const { outputs } = await load();
    const hl7 = (text: string, controlId: string) => JSON.stringify({ schema: 'passerelle.hl7/1', journalId: '1', receivedAt: new Date().toISOString(), channel: 'mllp:mllp-in', messageType: 'ORU^R01', controlId, version: '2.6', charset: 'UNICODE UTF-8', text });
    const adt = 'MSH|^~\\&|DPI|CHU|||20261123100000+0100||ADT^A01|ADT-1|P|2.5\rPID|||123^^^CHU||GÉRARD^Jérôme\r';
    const oru = 'MSH|^~\\&|GW^1122334455667788^EUI-64||||20261123100900+0100||ORU^R01^ORU_R01|PCD-1|P|2.6|||||||||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\rPID|||123^^^CHU||GÉRARD^Jérôme\rOBR|1|||182777000^monitoring of patient^SCT\rOBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.0.0.1|96|262688^MDC_DIM_PERCENT^MDC|||||F|||20261123100812+0100||||0011223344556677^^0011223344556677^EUI-64\r';
    await publisher.publish(`passerelle/v1/${SITE}/hl7/mllp-in/message`, hl7(adt, 'ADT-1'));
    await publisher.publish(`passerelle/v1/${SITE}/hl7/mllp-in/message`, hl7(oru, 'PCD-1'));
    await waitUntil(() => outputs.length > 0, 5000, () => 'the PCD-01 result');
    expect(outputs).to.have.length(1);
    expect(outputs[0].topic).to.equal(`passerelle/v1/${SITE}/vitals/mllp-in/result`);
    expect(outputs[0].payload.observations[0]).to.deep.include({ value: 96, equipmentId: '0011223344556677' });
    expect(outputs[0].payload.patient).to.deep.include({ matched: true });
  });

  it('decodes a BLE gateway\'s bytes; a glucose meter\'s control solution goes to .../qc', async () => {
    const { outputs } = await load();
    const [cuff] = simulatedBleReadings(simulatedVitals(2, 'c'));
    await publisher.publish(`passerelle/v1/${SITE}/ble/gw-salle-2/reading`, JSON.stringify(cuff));
    const control = { schema: 'passerelle.ble/1', address: '58:7A:62:0B:40:20', characteristic: '2A18', value: '060200EA070B170A000035C04A', receivedAt: '2026-11-23T10:14:00+01:00' };
    await publisher.publish(`passerelle/v1/${SITE}/ble/gw-salle-2/reading`, JSON.stringify(control));
    await waitUntil(() => outputs.length === 2, 5000, () => 'two results');
    expect(outputs.map((o) => o.topic)).to.deep.equal([`passerelle/v1/${SITE}/vitals/gw-salle-2/result`, `passerelle/v1/${SITE}/vitals/gw-salle-2/qc`]);
    expect(outputs[0].payload.observations.map((o) => o.value)).to.deep.equal([124, 76, 93, 70]);
    expect(outputs[0].payload.patient).to.deep.include({ matched: true });
  });

  it('consumes only the inputs it is told to', async () => {
    const { outputs } = await load({ fhir: false });
    await publisher.publish(`passerelle/v1/${SITE}/cart/c1/fhir`, JSON.stringify(toFhirBundle(simulatedVitals(0, 'c1'))));
    await publisher.publish(`passerelle/v1/${SITE}/cart/chariot-tlc-2/vitals`, exampleText());
    await waitUntil(() => outputs.length > 0, 5000, () => 'the cart result');
    expect(outputs.map((o) => o.payload.source.protocol)).to.deep.equal(['mqtt']);
  });

  describe('with "to the record" in the IHE PCD-01 form', () => {
    let record: SimulatedRecord;
    beforeEach(async () => { record = await new SimulatedRecord().start(); });
    afterEach(async () => { await record.stop(); });

    it('sends vitals as PCD-01 (v2.6) and a biology result as v2.5 to the same record', async () => {
      await load({}, [
        { id: 'rec', type: 'passerelle-to-record', bus: 'bus', endpoint: `127.0.0.1:${record.port}`, charset: 'UNICODE UTF-8', format: 'ihe-pcd-01', ackTimeout: 2, maxAttempts: 2, retryMax: 1, window: 1, wires: [[]] },
      ], [toRecordNode]);
      await waitUntil(() => statusesOf(helper.getNode('rec')).some((s) => s.fill === 'green'), 5000, () => 'to-record subscribed');
      await publisher.publish(`passerelle/v1/${SITE}/cart/chariot-tlc-2/vitals`, exampleText());
      const biology = JSON.parse(readFileSync(join(ROOT, 'docs', 'schema', 'result.example.json'), 'utf8'));
      helper.getNode('rec').receive({ payload: biology });
      // The broker may also hand over what an earlier test left for these nodes' sessions: pick by OBR-3.
      const byResult = (id: string) => record.received.map((r) => Hl7Message.parse(r.text)).find((m) => m.get('OBR-3.1') === id);
      await waitUntil(() => !!byResult(biology.order.fillerNumber) && !!byResult(JSON.parse(exampleText()).id), 10_000, () => 'both results at the record');
      const vitals = byResult(JSON.parse(exampleText()).id)!;
      const lab = byResult(biology.order.fillerNumber)!;
      expect([vitals.version, vitals.get('MSH-21.1'), vitals.get('OBX[3]-3'), vitals.get('OBX[3]-18.1')]).to.deep.equal(['2.6', 'IHE_PCD_001', '150021^MDC_PRESS_BLD_NONINV_SYS^MDC', '00091FFFFE123456']);
      expect([lab.version, lab.get('MSH-21')]).to.deep.equal(['2.5', undefined]);
    });

    it('the example flow (examples/08-vitals-to-the-record.json) runs: its teleconsultation and BLE cuff reach the record as PCD-01', async () => {
      const example = JSON.parse(readFileSync(join(ROOT, 'examples', '08-vitals-to-the-record.json'), 'utf8')) as Array<Record<string, unknown>>;
      const injects = example.filter((n) => n.type === 'inject').map((n) => JSON.parse(String(n.payload)));
      // Its Passerelle nodes without their tab (the helper's flows have none), the record's address given.
      const nodes = example.filter((n) => String(n.type).startsWith('passerelle-')).map(({ z: _tab, x: _x, y: _y, ...n }) => ({
        ...n, ...(n.type === 'passerelle-to-record' ? { endpoint: `127.0.0.1:${record.port}`, wires: [[]] } : {}), ...(n.type === 'passerelle-vitals-in' ? { wires: [[]] } : {}),
      }));
      await helper.load([busNode, vitalsInNode, toRecordNode], nodes);
      const vitalsIn = helper.getNode('ex08-vitals-in');
      await waitUntil(() => statusesOf(helper.getNode('ex08-to-record')).some((s) => s.fill === 'green') && statusesOf(vitalsIn).some((s) => s.fill === 'green'), 5000, () => 'both nodes on the bus');
      for (const payload of injects) vitalsIn.receive({ payload });
      await record.waitFor(2);
      const messages = record.received.map((r) => Hl7Message.parse(r.text));
      expect(messages.map((m) => [m.version, m.get('MSH-21.1'), m.segments('OBX').filter((o) => o.get('2') === 'NM').length])).to.deep.equal([['2.6', 'IHE_PCD_001', 12], ['2.6', 'IHE_PCD_001', 4]]);
      expect(messages[1].get('OBX[3]-18.1')).to.equal('00091FFFFE123456');
    });

    it('refuses an unknown format: grey status, nothing sent', async () => {
      const errors: string[] = [];
      await helper.load([busNode, toRecordNode], [
        { id: 'bus', type: 'passerelle-bus', mode: 'hub' },
        { id: 'rec', type: 'passerelle-to-record', bus: 'bus', endpoint: `127.0.0.1:${record.port}`, format: 'v3-cda', wires: [[]] },
      ]);
      const rec = helper.getNode('rec');
      rec.on('call:error', (call: { args: unknown[] }) => errors.push(String(call.args[0])));
      await waitUntil(() => statusesOf(rec).length > 0, 2000);
      expect(statusesOf(rec).pop()).to.include({ fill: 'grey', shape: 'ring' });
    });
  });
});
