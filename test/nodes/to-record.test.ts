import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BusClient } from '../../adapters/bus';
import { Hl7Message } from '../../adapters/hl7';
import { Store } from '../../adapters/journal';
import type { Result } from '../../adapters/model';
import { SimulatedRecord } from '../../simulators/record';
import { waitUntil } from '../support/hub-process';
import { busNode, helper, startHarness, statusesOf, toRecordNode, type Harness, type TestNode } from './harness';

const example = (): Result => JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'docs', 'schema', 'result.example.json'), 'utf8'));

interface Flow { events: Array<Record<string, unknown>>; errors: string[]; node: TestNode }

describe('passerelle-to-record node', function () {
  this.timeout(30_000);
  let harness: Harness;
  let record: SimulatedRecord;

  before(async () => { harness = await startHarness(); });
  after(async () => { await harness.stop(); });
  beforeEach(async () => { record = await new SimulatedRecord().start(); });
  afterEach(async () => { await helper.unload(); await record.stop(); });

  async function load(props: Record<string, unknown> = {}): Promise<Flow> {
    const flow = [
      { id: 'bus', type: 'passerelle-bus', mode: 'hub' },
      { id: 'rec', type: 'passerelle-to-record', bus: 'bus', endpoint: `127.0.0.1:${record.port}`, charset: 'UNICODE UTF-8', ackTimeout: 2, maxAttempts: 2, retryMax: 1, window: 1, wires: [['out']], ...props },
      { id: 'out', type: 'helper' },
    ];
    await helper.load([busNode, toRecordNode], flow);
    const node = helper.getNode('rec');
    const events: Array<Record<string, unknown>> = [];
    const errors: string[] = [];
    helper.getNode('out').on('input', (msg: { payload: Record<string, unknown> }) => events.push(msg.payload));
    node.on('call:error', (call: { args: unknown[] }) => errors.push(String(call.args[0])));
    return { events, errors, node };
  }

  it('turns a result on its input into an ORU for the record and reports sent then accepted, by control id', async () => {
    const { events, node } = await load();
    node.receive({ payload: example() });
    await record.waitFor(1);
    await waitUntil(() => events.some((e) => e.state === 'accepted'), 10_000, () => 'accepted event');
    const oru = Hl7Message.parse(record.received[0].text);
    expect(oru.messageType).to.equal('ORU^R01^ORU_R01');
    const accepted = events.find((e) => e.state === 'accepted')!;
    expect(accepted).to.include({ resultId: example().id, controlId: oru.controlId, ackCode: 'AA', destination: 'rec' });
    expect(events.map((e) => e.state)).to.deep.equal(['sent', 'accepted']);
  });

  it('consumes results from the bus, and sends one id once however often it is published', async () => {
    const { events } = await load();
    await waitUntil(() => harness.broker.clients() >= 1, 5000, () => 'the node connected to the bus');
    const publisher = await BusClient.connect({ url: harness.broker.url, clientId: 'to-record-test-publisher' });
    const twice = JSON.stringify({ ...example(), id: 'bus-result-1' });
    await publisher.publish('passerelle/v1/node-site/biology/yumizen-h500-1/result', twice);
    await publisher.publish('passerelle/v1/node-site/biology/yumizen-h500-1/result', twice);
    await publisher.publish('passerelle/v1/other-site/biology/yumizen-h500-1/result', JSON.stringify({ ...example(), id: 'other-site' }));
    await waitUntil(() => events.some((e) => e.state === 'accepted'), 10_000, () => 'accepted event');
    await publisher.close();
    expect(record.received).to.have.length(1);
    expect(events.filter((e) => e.state === 'accepted').map((e) => e.resultId)).to.deep.equal(['bus-result-1']);
  });

  it('holds a result whose patient is not matched: nothing reaches the record, the result is listed', async () => {
    const { node } = await load();
    const unmatched = example();
    unmatched.id = 'unmatched-1';
    unmatched.patient = { identifiers: [], matched: false };
    node.receive({ payload: unmatched });
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      await waitUntil(() => store.listResults({ limit: 10 }).results.some((r) => r.id === 'unmatched-1'), 5000);
      const row = store.listResults({ limit: 10 }).results.find((r) => r.id === 'unmatched-1')!;
      expect(row.matched).to.equal(false);
      expect(row.deliveries).to.deep.equal([]);
    } finally {
      store.close();
    }
    expect(record.received).to.have.length(0);
  });

  it('fails the message with done(err) when the input is not a canonical result, naming the problem and the journal entry', async () => {
    const { node, errors } = await load();
    node.receive({ payload: { schema: 'passerelle.result/1', id: 'x' } });
    await waitUntil(() => errors.length > 0, 5000, () => 'an error');
    expect(errors[0]).to.contain('passerelle-to-record.errors.invalid'); // the test helper does not translate
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      const [rejected] = store.listInbound({ status: 'rejected', limit: 1 });
      expect(rejected.channel).to.equal('wire:rec');
      expect(rejected.error).to.contain("must have required property 'kind'");
      expect(JSON.parse(rejected.raw.toString())).to.deep.equal({ schema: 'passerelle.result/1', id: 'x' });
    } finally {
      store.close();
    }
    expect(record.received).to.have.length(0);
  });

  it('retries a message the record refuses (AE), then dead-letters it and delivers the next one', async () => {
    record.answer = 'AE';
    const { node, events, errors } = await load({ maxAttempts: 2 });
    node.receive({ payload: { ...example(), id: 'poison' } });
    await waitUntil(() => events.some((e) => e.state === 'dead'), 15_000, () => 'dead letter');
    record.answer = 'AA';
    node.receive({ payload: { ...example(), id: 'next' } });
    await waitUntil(() => events.some((e) => e.state === 'accepted'), 15_000, () => 'the next one accepted');
    const dead = events.find((e) => e.state === 'dead')!;
    expect(dead).to.include({ resultId: 'poison', attempts: 2 });
    expect(events.find((e) => e.state === 'accepted')).to.include({ resultId: 'next' });
    expect(errors).to.include('passerelle-to-record.errors.dead');
  });

  it('says it is not configured, and does nothing, when the endpoint is not host:port', async () => {
    await helper.load([busNode, toRecordNode], [{ id: 'rec', type: 'passerelle-to-record', endpoint: '10.0.0.5', wires: [] }]);
    const node = helper.getNode('rec');
    expect(statusesOf(node).pop()).to.include({ fill: 'grey', shape: 'ring' });
  });
});
