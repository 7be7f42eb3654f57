/**
 * passerelle-astm-in with real lines: the simulator plays real captures over TCP into the node
 * listening, over a socat pseudo-terminal into the node in serial mode, and as a device the node
 * connects to (which restarts). Results come out on the output and on the bus, the raw transfer
 * is in the journal before the instrument's last ACK, QC goes to .../qc only.
 */
import { expect } from 'chai';
import { createServer, Socket, type Server } from 'node:net';
import { join } from 'node:path';
import { BusClient } from '../../adapters/bus';
import { Store, type InboundEntry } from '../../adapters/journal';
import type { Result } from '../../adapters/model';
import { readiness } from '../../adapters/common/readiness';
import { generateMessages, playMessages, runAstm } from '../../simulators/astm';
import { BYTE, frameBytes } from '../adapters/astm/helpers';
import { startPtyPair, type PtyPair } from '../support/pty';
import { freePort } from '../support/net';
import { waitUntil } from '../support/hub-process';
import { sharedFixture } from '../support/shared';
import { busNode, helper, startHarness, statusesOf, type Harness } from './harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const astmInNode = require('../../nodes/astm-in/astm-in.js');

interface Output { topic: string; payload: Result; journalId: string; qc: boolean }

describe('passerelle-astm-in node', function () {
  this.timeout(30_000);
  let harness: Harness;
  let watcher: BusClient | undefined;

  before(async () => { harness = await startHarness(); });
  after(async () => { await harness.stop(); });
  afterEach(async () => {
    await helper.unload();
    await watcher?.close();
    watcher = undefined;
  });

  /** Everything published for one device, topic and payload. */
  async function watch(deviceId: string): Promise<Array<{ topic: string; payload: Result }>> {
    watcher = await BusClient.connect({ url: harness.broker.url, clientId: `astm-in-test-${deviceId}` });
    const seen: Array<{ topic: string; payload: Result }> = [];
    await watcher.subscribeDurable(`passerelle/v1/node-site/+/${deviceId}/+`, async (topic, payload) => { seen.push({ topic, payload: JSON.parse(payload.toString()) }); });
    return seen;
  }

  async function load(config: Record<string, unknown>) {
    await helper.load([busNode, astmInNode], [
      { id: 'bus', type: 'passerelle-bus', mode: 'hub' },
      { id: 'in', type: 'passerelle-astm-in', bus: 'bus', profile: 'astm-generic', deviceClass: 'analyser', ...config, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const outputs: Output[] = [];
    helper.getNode('out').on('input', (msg: Output) => outputs.push(msg));
    const errors: Array<{ text: string; msg: unknown }> = [];
    helper.getNode('in').on('call:error', (call: { args: unknown[] }) => errors.push({ text: String(call.args[0]), msg: call.args[1] }));
    await waitUntil(() => !readiness().starting.some((s) => s.includes('passerelle-astm-in in:')), 10_000, () => 'the line open');
    return { outputs, errors };
  }

  function journal<T>(fn: (store: Store) => T): T {
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      return fn(store);
    } finally {
      store.close();
    }
  }

  function entries(channel: string): InboundEntry[] {
    return journal((store) => store.listInbound({ channel, limit: 100 }));
  }

  it('tcp-listen: a cobas c311 capture comes out on the output and the bus; the raw transfer is journaled before the last ACK', async () => {
    const onBus = await watch('c311-1');
    const port = await freePort();
    const { outputs, errors } = await load({ transport: 'tcp-listen', host: '127.0.0.1', port, profile: 'roche-cobas-c311', deviceId: 'c311-1' });
    const outcome = await runAstm({ tcp: `127.0.0.1:${port}`, file: sharedFixture('astm', 'roche-cobas-c311.txt'), log: () => undefined });
    expect(outcome).to.deep.equal({ sent: 1, failed: [] });
    // The simulator has had the ACK of its last frame: the bytes must already be on disk.
    const raw = entries('astm:c311-1').filter((e) => e.contentType === 'application/x-astm' && e.status === 'accepted');
    expect(raw, 'raw transfer journaled before the final ACK').to.have.length(1);
    expect(raw[0].raw[0]).to.equal(BYTE.ENQ);
    expect(raw[0].raw.toString('latin1')).to.contain('O|1|11625^CL-PL-24-0370');

    await waitUntil(() => outputs.length === 1 && onBus.length === 1, 10_000, () => `output ${outputs.length}, bus ${onBus.length}`);
    const result = outputs[0].payload;
    expect(outputs[0].topic).to.equal('passerelle/v1/node-site/biology/c311-1/result');
    expect(outputs[0].qc).to.equal(false);
    expect(result.source).to.include({ site: 'node-site', deviceId: 'c311-1', deviceClass: 'analyser' });
    expect(result.observations).to.have.length(7);
    expect(result.observations.map((o) => o.deviceCode.code)).to.include('685/');
    expect(result.raw?.journalId).to.equal(raw[0].id);
    expect(onBus[0].topic).to.equal(outputs[0].topic);
    expect(onBus[0].payload).to.deep.equal(JSON.parse(JSON.stringify(result)));
    const resultEntry = journal((store) => store.getInbound(outputs[0].journalId))!;
    expect(resultEntry).to.include({ contentType: 'application/json', status: 'accepted', resultId: result.id, publishTopic: outputs[0].topic });
    expect(errors).to.deep.equal([]);
    await waitUntil(() => statusesOf(helper.getNode('in')).some((s) => s.fill === 'green' && /result/.test(s.text)), 5000, () => 'status');
  });

  it('tcp-listen: a Yumizen H500 quality control goes to .../qc, never .../result', async () => {
    const onBus = await watch('h500-1');
    const port = await freePort();
    const { outputs } = await load({ transport: 'tcp-listen', host: '127.0.0.1', port, profile: 'horiba-yumizen-h5xx', deviceId: 'h500-1' });
    const outcome = await runAstm({ tcp: `127.0.0.1:${port}`, file: sharedFixture('astm', 'horiba-yumizen-h500.txt'), log: () => undefined });
    expect(outcome.sent).to.equal(1);
    await waitUntil(() => outputs.length === 1 && onBus.length === 1, 10_000, () => `output ${outputs.length}, bus ${onBus.length}`);
    expect(outputs[0]).to.include({ topic: 'passerelle/v1/node-site/biology/h500-1/qc', qc: true });
    expect(outputs[0].payload.observations).to.have.length(21);
    expect(onBus.map((m) => m.topic)).to.deep.equal(['passerelle/v1/node-site/biology/h500-1/qc']);
    expect(onBus[0].payload.id).to.equal(outputs[0].payload.id);
  });

  it('answers NAK to a frame with a bad checksum, takes it again when repeated, and carries on', async () => {
    const port = await freePort();
    const { outputs, errors } = await load({ transport: 'tcp-listen', host: '127.0.0.1', port, deviceId: 'generic-1' });
    const socket = new Socket();
    const replies: number[] = [];
    let waiting: { count: number; resolve: () => void } | undefined;
    socket.on('data', (d: Buffer) => {
      replies.push(...d);
      if (waiting && replies.length >= waiting.count) waiting.resolve();
    });
    await new Promise<void>((resolve) => socket.connect(port, '127.0.0.1', resolve));
    const send = (bytes: Buffer | number[]) => new Promise<number>((resolve) => {
      const count = replies.length + 1;
      waiting = { count, resolve: () => resolve(replies[count - 1]) };
      socket.write(Buffer.from(bytes));
    });
    try {
      expect(await send([BYTE.ENQ])).to.equal(BYTE.ACK);
      const records = generateMessages(1, { date: '20261123094107' })[0].split('\r').filter(Boolean);
      const good = frameBytes(1, `${records[0]}\r`);
      const bad = frameBytes(1, `${records[0]}\r`, { checksum: '00' });
      expect(await send(bad)).to.equal(BYTE.NAK);
      expect(await send(good)).to.equal(BYTE.ACK);
      for (let i = 1; i < records.length; i += 1) expect(await send(frameBytes((i + 1) % 8, `${records[i]}\r`))).to.equal(BYTE.ACK, `record ${i + 1}`);
      socket.write(Buffer.from([BYTE.EOT]));
      await waitUntil(() => outputs.length === 1, 10_000, () => 'the result');
      expect(outputs[0].payload.specimen?.id).to.equal('SIM000001');
      expect(outputs[0].payload.observations).to.have.length(3);
      expect(errors).to.deep.equal([]);
    } finally {
      socket.destroy();
    }
  });

  it('journals an unreadable transfer as rejected and reports it to Catch nodes, still acknowledging it', async () => {
    const port = await freePort();
    const { outputs, errors } = await load({ transport: 'tcp-listen', host: '127.0.0.1', port, deviceId: 'generic-2' });
    const socket = await new Promise<Socket>((resolve) => { const s: Socket = new Socket(); s.connect(port, '127.0.0.1', () => resolve(s)); });
    try {
      const outcome = await playMessages(socket, ['X|not a header\rL|1|N\r']);
      expect(outcome.sent).to.equal(1);
      await waitUntil(() => errors.length === 1, 5000, () => 'the error');
      expect(errors[0].text).to.equal('passerelle-astm-in.errors.unreadable');
      const rejected = entries('astm:generic-2').filter((e) => e.status === 'rejected');
      expect(rejected).to.have.length(1);
      expect(rejected[0].raw.toString('latin1')).to.contain('X|not a header');
      expect((errors[0].msg as { payload: { journalId: string } }).payload.journalId).to.equal(rejected[0].id);
      expect(outputs).to.have.length(0);
    } finally {
      socket.destroy();
    }
  });

  it('journals a transfer cut short (receive timeout) as rejected with its bytes, and reports it', async () => {
    const port = await freePort();
    const { outputs, errors } = await load({ transport: 'tcp-listen', host: '127.0.0.1', port, deviceId: 'generic-3', receiveTimeout: 1 });
    const socket = await new Promise<Socket>((resolve) => { const s: Socket = new Socket(); s.connect(port, '127.0.0.1', () => resolve(s)); });
    try {
      const header = frameBytes(1, 'H|\\^&|||half\r');
      socket.write(Buffer.from([BYTE.ENQ]));
      socket.write(header);
      // Then silence: the node gives up after the receive timeout it was configured with (1 s).
      await waitUntil(() => errors.length === 1, 10_000, () => 'the error');
      expect(errors[0].text).to.equal('passerelle-astm-in.errors.incomplete');
      const rejected = entries('astm:generic-3').filter((e) => e.status === 'rejected');
      expect(rejected).to.have.length(1);
      expect(rejected[0].raw.equals(Buffer.concat([Buffer.from([BYTE.ENQ]), header]))).to.equal(true);
      expect(rejected[0].error).to.match(/timeout/);
      expect(outputs).to.have.length(0);
    } finally {
      socket.destroy();
    }
  });

  it('answers NAK when the journal cannot keep the transfer, and keeps it once when the device sends the frame again', async () => {
    const port = await freePort();
    const { outputs, errors } = await load({ transport: 'tcp-listen', host: '127.0.0.1', port, deviceId: 'generic-4' });
    const original = Store.prototype.journalInbound;
    let failures = 1;
    Store.prototype.journalInbound = function (this: Store, entry) {
      if (failures > 0 && entry.contentType === 'application/x-astm') {
        failures -= 1;
        throw new Error('disk I/O error');
      }
      return original.call(this, entry);
    };
    const socket = await new Promise<Socket>((resolve) => { const s: Socket = new Socket(); s.connect(port, '127.0.0.1', () => resolve(s)); });
    const naks: number[] = [];
    socket.on('data', (d: Buffer) => naks.push(...[...d].filter((b) => b === BYTE.NAK)));
    try {
      const outcome = await playMessages(socket, generateMessages(1, { start: 40 }));
      expect(outcome).to.deep.equal({ sent: 1, failed: [] }, 'the sender repeated the refused frame');
      expect(naks).to.have.length(1);
      expect(errors.map((e) => e.text)).to.deep.equal(['passerelle-astm-in.errors.store']);
      await waitUntil(() => outputs.length === 1, 5000, () => 'the result');
      expect(outputs[0].payload.specimen?.id).to.equal('SIM000040');
      const raw = entries('astm:generic-4').filter((e) => e.contentType === 'application/x-astm');
      expect(raw.map((e) => e.status)).to.deep.equal(['accepted']);
      // Raw bytes as they came on the line: the refused terminator frame and its repeat; the records once.
      expect(raw[0].raw.toString('latin1').split('L|1|N').length - 1).to.equal(2);
      expect(outputs[0].payload.observations).to.have.length(3);
    } finally {
      Store.prototype.journalInbound = original;
      socket.destroy();
    }
  });

  describe('serial', () => {
    let pty: PtyPair;
    beforeEach(async () => { pty = await startPtyPair(); });
    afterEach(async () => { await pty.stop(); });

    it('opens the port (socat pseudo-terminal) and receives what the simulator writes on the other end', async () => {
      const onBus = await watch('c311-serial');
      const { outputs } = await load({ transport: 'serial', serialPath: pty.a, baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, flowControl: 'none', profile: 'roche-cobas-c311', deviceId: 'c311-serial' });
      await waitUntil(() => statusesOf(helper.getNode('in')).some((s) => s.fill === 'green'), 5000, () => 'port open');
      const outcome = await runAstm({ serial: pty.b, file: sharedFixture('astm', 'roche-cobas-c311.txt'), log: () => undefined });
      expect(outcome.sent).to.equal(1);
      await waitUntil(() => outputs.length === 1 && onBus.length === 1, 10_000, () => `output ${outputs.length}, bus ${onBus.length}`);
      expect(outputs[0].topic).to.equal('passerelle/v1/node-site/biology/c311-serial/result');
      expect(outputs[0].payload.observations).to.have.length(7);
      expect(entries('astm:c311-serial').some((e) => e.contentType === 'application/x-astm' && e.status === 'accepted')).to.equal(true);
    });
  });

  it('tcp-connect: connects to the device, and again after the device restarts', async () => {
    const port = await freePort();
    let device: Server | undefined;
    const sockets = new Set<Socket>();
    let served = 0;
    const startDevice = async () => {
      device = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        served += 1;
        void playMessages(socket, generateMessages(1, { start: served })).catch(() => undefined);
      });
      await new Promise<void>((resolve) => device!.listen(port, '127.0.0.1', resolve));
    };
    const stopDevice = async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => device!.close(() => resolve()));
    };
    await startDevice();
    try {
      const { outputs } = await load({ transport: 'tcp-connect', host: '127.0.0.1', port, deviceId: 'remote-1' });
      await waitUntil(() => outputs.length === 1, 10_000, () => 'first result');
      expect(outputs[0].payload.specimen?.id).to.equal('SIM000001');
      await stopDevice();
      await waitUntil(() => statusesOf(helper.getNode('in')).slice(-1)[0]?.fill === 'yellow', 5000, () => 'disconnected status');
      await startDevice();
      await waitUntil(() => outputs.length === 2, 15_000, () => 'result after the restart');
      expect(outputs[1].payload.specimen?.id).to.equal('SIM000002');
    } finally {
      if (device?.listening) await stopDevice();
    }
  });
});
