/**
 * passerelle-opcua-client, passerelle-opcua-in and passerelle-lads-in in Node-RED, against a real
 * OPC UA server (node-opcua's server stack with the OPC Foundation's LADS nodesets:
 * simulators/opcua.ts) on a random loopback port; end to end through the bus and "to the record"
 * to an MLLP listener, whose ORU python3-hl7 reads.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BusClient } from '../../adapters/bus';
import { Store } from '../../adapters/journal';
import type { Result } from '../../adapters/model';
import { SimulatedRecord } from '../../simulators/record';
import { SimulatedInstrument } from '../../simulators/opcua';
import { waitUntil } from '../support/hub-process';
import { freePort, tempDir } from '../support/net';
import { parseWithPython, pyComponents, pyField } from '../support/python-hl7';
import { busNode, helper, startHarness, statusesOf, toRecordNode, type Harness, type TestNode } from './harness';

const clientNode = require('../../nodes/opcua-client/opcua-client.js');
const opcuaInNode = require('../../nodes/opcua-in/opcua-in.js');
const ladsInNode = require('../../nodes/lads-in/lads-in.js');
const ROOT = join(__dirname, '..', '..', '..');
const SITE = 'node-site';

describe('OPC UA nodes against a node-opcua server', function () {
  this.timeout(60_000);
  let harness: Harness;
  let instrument: SimulatedInstrument;
  let watcher: BusClient;
  const pki = tempDir('passerelle-opcua-nodes-');
  const onBus: Array<{ topic: string; payload: Result }> = [];

  before(async () => {
    harness = await startHarness();
    instrument = await new SimulatedInstrument({ port: await freePort(), pkiDir: pki.dir }).start();
    watcher = await BusClient.connect({ url: harness.broker.url, clientId: 'opcua-test-watcher' });
    await watcher.subscribeDurable(`passerelle/v1/${SITE}/biology/+/result`, async (topic, payload) => { onBus.push({ topic, payload: JSON.parse(payload.toString()) }); });
  });
  after(async () => {
    await watcher.close();
    await instrument.stop();
    await harness.stop();
    pki.remove();
  });
  afterEach(async () => { await helper.unload(); });

  const server = (extra: Record<string, unknown> = {}) => ({
    id: 'srv', type: 'passerelle-opcua-client', endpoint: instrument.endpointUrl, securityMode: 'None', securityPolicy: 'None', auth: 'anonymous', ...extra,
  });
  const errorsOf = (node: TestNode) => {
    const errors: string[] = [];
    node.on('call:error', (call: { args: unknown[] }) => errors.push(String(call.args[0])));
    return errors;
  };

  it('opcua in: one message per change with value, source timestamp and status; a removed variable is an error and a red dot, the others go on', async () => {
    await helper.load([clientNode, opcuaInNode], [
      server(),
      { id: 'in', type: 'passerelle-opcua-in', client: 'srv', variables: 'ns=1;s=Plain.Temperature temperature\n# a comment\nns=1;s=Plain.Status', samplingInterval: 50, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const messages: Array<Record<string, unknown>> = [];
    helper.getNode('out').on('input', (msg: Record<string, unknown>) => messages.push(msg));
    const node = helper.getNode('in');
    const errors = errorsOf(node);
    await waitUntil(() => messages.length >= 2, 10_000, () => 'the first values');
    const at = new Date('2026-12-01T07:15:00.500Z');
    instrument.setVariable('Temperature', 36.6, at);
    await waitUntil(() => messages.some((m) => m.payload === 36.6), 10_000, () => 'the new value');
    expect(messages.find((m) => m.payload === 36.6)).to.deep.include({ topic: 'temperature', nodeId: 'ns=1;s=Plain.Temperature', sourceTimestamp: at.toISOString(), status: 'Good', dataType: 'Double' });
    expect(messages.find((m) => m.topic === 'ns=1;s=Plain.Status')).to.deep.include({ payload: 'ready' });
    expect(statusesOf(node).pop()).to.include({ fill: 'green', text: 'passerelle-opcua-in.status.watching' });

    instrument.removeVariable('Status');
    await waitUntil(() => errors.length > 0, 10_000, () => 'the error on the removed variable');
    expect(errors[0]).to.equal('passerelle-opcua-in.errors.variable');
    expect(statusesOf(node).pop()).to.include({ fill: 'red', text: 'passerelle-opcua-in.status.missing' });
    instrument.setVariable('Temperature', 38.1);
    await waitUntil(() => messages.some((m) => m.payload === 38.1), 10_000, () => 'the temperature still watched');
  });

  it('opcua in: a node id that is not one, or no server: grey dot, a clear error', async () => {
    await helper.load([clientNode, opcuaInNode], [server(), { id: 'in', type: 'passerelle-opcua-in', client: 'srv', variables: 'Temperature', wires: [[]] }]);
    const node = helper.getNode('in');
    await waitUntil(() => statusesOf(node).length > 0, 2000);
    expect(statusesOf(node).pop()).to.include({ fill: 'grey', text: 'passerelle-opcua-in.status.not-configured' });
  });

  it('an empty endpoint (the site flow without OPCUA_ENDPOINT): grey dot, no error, nothing started', async () => {
    await helper.load([clientNode, ladsInNode, opcuaInNode], [
      server({ endpoint: '' }),
      { id: 'lads', type: 'passerelle-lads-in', client: 'srv', deviceId: 'lads-off', profile: 'lads-generic', wires: [[], []] },
      { id: 'in', type: 'passerelle-opcua-in', client: 'srv', variables: 'ns=1;s=Plain.Status', wires: [[]] },
    ]);
    const errors = [...errorsOf(helper.getNode('lads')), ...errorsOf(helper.getNode('in'))];
    await waitUntil(() => statusesOf(helper.getNode('lads')).length > 0 && statusesOf(helper.getNode('in')).length > 0, 2000);
    expect(statusesOf(helper.getNode('lads')).pop()).to.include({ fill: 'grey', text: 'passerelle-lads-in.status.no-endpoint' });
    expect(statusesOf(helper.getNode('in')).pop()).to.include({ fill: 'grey', text: 'passerelle-opcua-in.status.no-endpoint' });
    expect(errors).to.deep.equal([]);
  });

  describe('lads in, to the record', () => {
    let record: SimulatedRecord;
    beforeEach(async () => { record = await new SimulatedRecord().start(); });
    afterEach(async () => { await record.stop(); });

    it('a result appearing on the instrument reaches the record as an ORU^R01: specimen id, patient from the order, LOINC codes, values, units', async () => {
      const store = Store.open({ dir: join(harness.dataDir, 'journal') });
      try {
        store.indexOrder({ specimenId: 'SPL-E2E-1', placerNumber: 'CMD-E2E-1', patient: { identifiers: [{ value: 'IPP-7001', type: 'PI', authority: 'CSO' }], name: { family: 'GÉRARD', given: ['Jérôme'] }, matched: true, matchedBy: 'order' } });
      } finally {
        store.close();
      }
      await helper.load([busNode, clientNode, ladsInNode, toRecordNode], [
        { id: 'bus', type: 'passerelle-bus', mode: 'hub' },
        server(),
        { id: 'lads', type: 'passerelle-lads-in', client: 'srv', bus: 'bus', deviceId: 'lads-e2e', deviceClass: 'analyser', profile: 'passerelle-simulator', pollInterval: 60, backlogHours: 0, wires: [['results'], ['states']] },
        { id: 'results', type: 'helper' },
        { id: 'states', type: 'helper' },
        { id: 'rec', type: 'passerelle-to-record', bus: 'bus', endpoint: `127.0.0.1:${record.port}`, charset: 'UNICODE UTF-8', format: 'v2.5-loinc', ackTimeout: 2, maxAttempts: 2, retryMax: 1, window: 1, wires: [[]] },
      ]);
      const results: Array<{ topic: string; payload: Result; files: unknown[] }> = [];
      const states: Array<{ topic: string; payload: { state: string } }> = [];
      helper.getNode('results').on('input', (m: { topic: string; payload: Result; files: unknown[] }) => results.push(m));
      helper.getNode('states').on('input', (m: { topic: string; payload: { state: string } }) => states.push(m));
      const lads = helper.getNode('lads');
      await waitUntil(() => states.some((s) => s.topic === 'device') && statusesOf(helper.getNode('rec')).some((s) => s.fill === 'green'), 10_000, () => 'the device state and the record\'s node on the bus');
      expect(states.find((s) => s.topic === 'device')!.payload.state).to.equal('Operate');
      expect(statusesOf(lads).pop()).to.include({ fill: 'green', text: 'Operate' });

      const published = instrument.publishResult({ specimenId: 'SPL-E2E-1', values: [{ name: 'Glucose', value: 5.8, unit: 'mmol/L' }, { name: 'CRP', value: 12, unit: 'mg/L' }] });
      await waitUntil(() => results.length === 1, 10_000, () => 'the result on the output');
      const [out] = results;
      expect(out.topic).to.equal(`passerelle/v1/${SITE}/biology/lads-e2e/result`);
      expect(out.payload.patient).to.deep.include({ matched: true, matchedBy: 'order' });
      expect(out.files).to.have.length(1);
      await waitUntil(() => onBus.some((b) => b.payload.id === out.payload.id), 10_000, () => 'the result on the bus');
      await record.waitFor(1);
      const message = record.received.find((r) => r.text.includes('SPL-E2E-1'))!;
      const py = parseWithPython(message.bytes);
      expect(pyComponents(py, 'MSH', 9)).to.deep.equal(['ORU', 'R01', 'ORU_R01']);
      expect(pyComponents(py, 'PID', 3)?.[0]).to.equal('IPP-7001');
      const obx = [1, 2].map((n) => [pyComponents(py, 'OBX', 3, n)?.[0], pyField(py, 'OBX', 5, n)?.[0][0][0], pyComponents(py, 'OBX', 6, n)?.[0]]);
      expect(obx).to.deep.equal([['15074-8', '5.8', 'mmol/L'], ['1988-5', '12', 'mg/L']]);
      expect(message.text).to.contain('SPL-E2E-1');
      expect(message.text).to.contain(published.runId);

      // The raw snapshot is in the journal, the result points at it.
      const journal = Store.open({ dir: join(harness.dataDir, 'journal') });
      try {
        const raw = journal.getInbound(out.payload.raw!.journalId!)!;
        expect(JSON.parse(raw.raw.toString('utf8')).result.name).to.equal(published.name);
        expect(raw.contentType).to.equal('application/x-passerelle-lads+json');
      } finally {
        journal.close();
      }

      // Read again on demand: nothing new, nothing twice.
      await new Promise<void>((resolve, reject) => {
        lads.once('call:error', (call: { args: unknown[] }) => reject(new Error(String(call.args[0]))));
        lads.receive({ payload: 'scan' });
        setImmediate(resolve);
      });
      instrument.publishResult({ specimenId: 'SPL-UNKNOWN' });
      await waitUntil(() => results.length === 2, 10_000, () => 'the second result');
      expect(results.map((r) => r.payload.specimen?.id)).to.deep.equal(['SPL-E2E-1', 'SPL-UNKNOWN']);
      expect(results[1].payload.patient, 'no order: no patient, held by to-record').to.equal(undefined);
    });

    it('a restarted hub does not publish again what it journaled; the next result goes through', async () => {
      const flow = [
        server(),
        { id: 'lads2', type: 'passerelle-lads-in', client: 'srv', deviceId: 'lads-restart', profile: 'passerelle-simulator', pollInterval: 60, backlogHours: 24, wires: [['results'], []] },
        { id: 'results', type: 'helper' },
      ];
      const outputs: Result[] = [];
      const load = async () => {
        await helper.load([clientNode, ladsInNode], flow);
        helper.getNode('results').on('input', (m: { payload: Result }) => outputs.push(m.payload));
      };
      await load();
      // Every result the instrument holds from the earlier tests (within 24 h) is taken once.
      await waitUntil(() => outputs.length === instrument.results.length, 10_000, () => `the instrument's ${instrument.results.length} results`);
      const first = outputs.length;
      await helper.unload();
      await load();
      const next = instrument.publishResult({ specimenId: 'SPL-AFTER-RESTART' });
      await waitUntil(() => outputs.length > first, 10_000, () => 'the next result');
      expect(outputs.slice(first).map((r) => r.specimen?.id)).to.deep.equal([next.samples[0].sampleId]);
    });

    it('the example flow (examples/10-opcua-instrument.json) loads and follows the instrument', async () => {
      const example = JSON.parse(readFileSync(join(ROOT, 'examples', '10-opcua-instrument.json'), 'utf8')) as Array<Record<string, unknown>>;
      const nodes = example.filter((n) => String(n.type).startsWith('passerelle-')).map(({ z: _tab, x: _x, y: _y, ...n }) => ({
        ...n,
        ...(n.type === 'passerelle-opcua-client' ? { endpoint: instrument.endpointUrl } : {}),
        ...(n.type === 'passerelle-to-record' ? { endpoint: `127.0.0.1:${record.port}`, wires: [[]] } : {}),
        ...(n.type === 'passerelle-lads-in' ? { wires: [[], []] } : {}),
        ...(n.type === 'passerelle-opcua-in' ? { wires: [[]] } : {}),
      }));
      await helper.load([busNode, clientNode, ladsInNode, opcuaInNode, toRecordNode], nodes);
      await waitUntil(() => statusesOf(helper.getNode('ex09-lads-in')).some((s) => s.fill === 'green') && statusesOf(helper.getNode('ex09-opcua-in')).some((s) => s.fill === 'green'), 10_000, () => 'both OPC UA nodes connected');
    });
  });
});
