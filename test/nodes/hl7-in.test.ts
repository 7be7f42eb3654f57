import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { BusClient } from '../../adapters/bus';
import { encodeMessage, frame, Hl7Message, MllpClient } from '../../adapters/hl7';
import { Store } from '../../adapters/journal';
import { freePort } from '../support/net';
import { waitUntil } from '../support/hub-process';
import { sharedFixture } from '../support/shared';
import { busNode, helper, hl7InNode, startHarness, statusesOf, type Harness } from './harness';

describe('passerelle-hl7-in node', function () {
  this.timeout(30_000);
  let harness: Harness;
  let port: number;

  before(async () => { harness = await startHarness(); });
  after(async () => { await harness.stop(); });
  afterEach(async () => { await helper.unload(); });

  async function load(options: { specimenFrom?: string } = {}) {
    port = await freePort();
    await helper.load([busNode, hl7InNode], [
      { id: 'bus', type: 'passerelle-bus', mode: 'hub' },
      { id: 'in', type: 'passerelle-hl7-in', bus: 'bus', host: '127.0.0.1', port, source: 'orders', ...options, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const outputs: Array<{ topic: string; payload: Record<string, string> }> = [];
    helper.getNode('out').on('input', (msg: { topic: string; payload: Record<string, string> }) => outputs.push(msg));
    const errors: string[] = [];
    helper.getNode('in').on('call:error', (call: { args: unknown[] }) => errors.push(String(call.args[0])));
    await waitUntil(() => statusesOf(helper.getNode('in')).some((s) => s.fill === 'green'), 5000, () => 'listening');
    return { outputs, errors };
  }

  it('journals an order, answers AA with MSA-2 = its MSH-10, outputs it and publishes it on the bus', async () => {
    const watcher = await BusClient.connect({ url: harness.broker.url, clientId: 'hl7-in-test-watcher' });
    const onBus: Array<Record<string, string>> = [];
    await watcher.subscribeDurable('passerelle/v1/node-site/hl7/orders/message', async (_topic, payload) => { onBus.push(JSON.parse(payload.toString())); });
    const { outputs } = await load();
    const order = readFileSync(sharedFixture('hl7', 'omi-o23_imaging-order_declared-8859-1_contains-utf8.hl7'));
    const controlId = Hl7Message.parse(order.toString('utf8')).controlId;
    const client = new MllpClient({ host: '127.0.0.1', port });
    const ack = await client.send(order, controlId, 5000);
    await client.close();
    expect(ack.code).to.equal('AA');
    expect(ack.controlId).to.equal(controlId);
    await waitUntil(() => onBus.length === 1 && outputs.length === 1, 5000, () => 'bus and output');
    expect(outputs[0].payload.messageType).to.match(/^OMI\^O23/);
    expect(onBus[0]).to.include({ schema: 'passerelle.hl7/1', controlId, journalId: outputs[0].payload.journalId });
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      const entry = store.getInbound(outputs[0].payload.journalId)!;
      expect(entry.raw.equals(order), 'the journal keeps the exact bytes').to.equal(true);
      expect(entry.status).to.equal('accepted');
    } finally {
      store.close();
    }
    await watcher.close();
  });

  it('indexes the orders of an OML^O21 and re-publishes, matched, a result already held for its specimen', async () => {
    const watcher = await BusClient.connect({ url: harness.broker.url, clientId: 'hl7-in-test-late-order' });
    const onBus: Array<{ id: string; patient?: { matched: boolean; matchedBy?: string; identifiers: Array<{ value: string; type?: string }> }; order?: { placerNumber?: string } }> = [];
    await watcher.subscribeDurable('passerelle/v1/node-site/biology/+/result', async (_topic, payload) => { onBus.push(JSON.parse(payload.toString())); });
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      store.recordResult({
        schema: 'passerelle.result/1', id: 'node-held-1', kind: 'biology', status: 'final',
        source: { site: 'node-site', deviceClass: 'chemistry', deviceId: 'analyser-9' },
        specimen: { id: 'NODE-S1' },
        observations: [{ deviceCode: { code: 'GLU' }, valueType: 'NM', value: 5, status: 'F' }],
        times: { received: '2026-11-23T09:00:00Z' },
      });
      await load();
      const oml = [
        'MSH|^~\\&|DPI|HOSP|PASSERELLE|LAB|20261123080000||OML^O21^OML_O21|NODE-OML-1|P|2.5',
        'PID|1||284037512345678^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO^INS||DUPONT^Jean||19700101|M',
        'ORC|NW|CMD-9',
        'OBR|1|CMD-9||GLU^Glucose^L',
        'SPM|1|NODE-S1||BLD',
        '',
      ].join('\r');
      const client = new MllpClient({ host: '127.0.0.1', port });
      const ack = await client.send(encodeMessage(oml, 'UNICODE UTF-8').bytes, 'NODE-OML-1', 5000);
      await client.close();
      expect(ack.code).to.equal('AA');
      await waitUntil(() => onBus.length === 1, 5000, () => 'the matched result on the bus');
      expect(onBus[0].id).to.equal('node-held-1');
      expect(onBus[0].patient).to.deep.include({ matched: true, matchedBy: 'order' });
      expect(onBus[0].patient!.identifiers[0]).to.deep.include({ value: '284037512345678', type: 'INS-NIR' });
      expect(onBus[0].order?.placerNumber).to.equal('CMD-9');
      expect(store.findOrderBySpecimen('NODE-S1')!.placerNumber).to.equal('CMD-9');
      expect(store.getResult('node-held-1')!.patient?.matched).to.equal(true);
      expect(store.unpublished(10, 'mllp:orders'), 'the outbox is drained').to.deep.equal([]);
    } finally {
      store.close();
      await watcher.close();
    }
  });

  it('reads the orders\' specimen id where the dialog says: the placer number when the tube carries it', async () => {
    await load({ specimenFrom: 'placer' });
    const orm = [
      'MSH|^~\\&|DPI|HOSP|PASSERELLE|LAB|20261124080000||ORM^O01^ORM_O01|NODE-ORM-PLACER|P|2.5',
      'PID|1||IPP-4521^^^HOSP^PI||LEFÈVRE^Zoé||19920312|F',
      'ORC|NW|TUBE-77|FIL-3',
      'OBR|1|TUBE-77|FIL-3|CRP^CRP^L',
      '',
    ].join('\r');
    const client = new MllpClient({ host: '127.0.0.1', port });
    const ack = await client.send(encodeMessage(orm, 'UNICODE UTF-8').bytes, 'NODE-ORM-PLACER', 5000);
    await client.close();
    expect(ack.code).to.equal('AA');
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      expect(store.findOrderBySpecimen('TUBE-77')?.patient.name?.family).to.equal('LEFÈVRE');
      expect(store.findOrderBySpecimen('FIL-3'), 'the filler number is not read as a specimen id').to.equal(undefined);
    } finally {
      store.close();
    }
  });

  it('answers AR to what is not HL7, journals the bytes as rejected and reports the error', async () => {
    const { errors, outputs } = await load();
    const garbage = encodeMessage('GET / HTTP/1.1', 'UNICODE UTF-8').bytes;
    const socket = connect(port, '127.0.0.1');
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d) => { text += d.toString('latin1'); if (text.includes('\x1c\r')) resolve(text); });
      socket.write(frame(garbage));
    });
    socket.destroy();
    expect(reply).to.match(/\rMSA\|AR\|/);
    expect(errors).to.include('passerelle-hl7-in.errors.unparsable');
    expect(outputs).to.have.length(0);
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      const [rejected] = store.listInbound({ status: 'rejected', channel: 'mllp:orders', limit: 1 });
      expect(rejected.raw.equals(garbage)).to.equal(true);
    } finally {
      store.close();
    }
  });

  it('keeps the bytes of a frame cut short by the peer, and goes on listening', async () => {
    const { errors } = await load();
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.write(Buffer.from('\x0bMSH|^~\\&|HALF'), () => resolve()));
    socket.end();
    await waitUntil(() => errors.includes('passerelle-hl7-in.errors.frame'), 5000, () => 'frame error');
    const client = new MllpClient({ host: '127.0.0.1', port });
    const ack = await client.send(readFileSync(sharedFixture('hl7', 'orm-o01_radiology-order_mesa.hl7')), Hl7Message.parse(readFileSync(sharedFixture('hl7', 'orm-o01_radiology-order_mesa.hl7'), 'latin1')).controlId, 5000);
    await client.close();
    expect(ack.code).to.equal('AA');
  });
});
