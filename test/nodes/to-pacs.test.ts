/**
 * passerelle-to-pacs with real PACSs: objects sent by dcmtk's storescu to the dicom-in node reach
 * a real Orthanc through the bus (downloaded back over its REST API: same SOP instance UID,
 * identical pixel data) and dcmtk's storescp through a wire. A PACS that is down holds the queue
 * until it is up; one that refuses the hub gets the object again and again, then it is a dead
 * letter. What is not an imaging event is refused with done(err), journaled as rejected.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readiness } from '../../adapters/common/readiness';
import { BusClient } from '../../adapters/bus';
import { COMMITMENT_REPORT_CONTENT_TYPE } from '../../adapters/dicom';
import type { DeliveryEvent } from '../../adapters/delivery';
import { Store } from '../../adapters/journal';
import type { ImagingEvent } from '../../adapters/model';
import { startStorescp, storescu, type RunningStorescp } from '../support/dcmtk';
import { waitUntil } from '../support/hub-process';
import { freePort, tempDir } from '../support/net';
import { startOrthanc, type RunningOrthanc } from '../support/orthanc';
import { sharedFixture } from '../support/shared';
import { pixelDataOf, pixelDataOfFile } from '../adapters/dicom/pixels';
import { busNode, helper, startHarness, statusesOf, type Harness } from './harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dicomInNode = require('../../nodes/dicom-in/dicom-in.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const toPacsNode = require('../../nodes/to-pacs/to-pacs.js');

const FIXTURES = ['cr_agfa_cspine_16x16.dcm', 'ot_iso-ir-100_german-patient-name.dcm', 'us_acuson_8frame_jpeg-baseline.dcm'];

describe('passerelle-to-pacs node', function () {
  this.timeout(120_000);
  let harness: Harness;
  let work: { dir: string; remove: () => void };
  let orthanc: RunningOrthanc;

  before(async () => {
    harness = await startHarness();
    orthanc = await startOrthanc();
  });
  after(async () => {
    await orthanc.stop();
    await harness.stop();
  });
  beforeEach(() => { work = tempDir('passerelle-to-pacs-'); });
  afterEach(async () => {
    await helper.unload();
    work.remove();
  });

  /** dicom-in → (bus or wire) → to-pacs → the PACS; 'deliveries' collects to-pacs's output. */
  async function load(pacs: string, options: { viaBus: boolean; toPacs?: Record<string, unknown>; port?: number }) {
    const port = options.port ?? await freePort();
    const stored: Array<{ payload: ImagingEvent }> = [];
    await helper.load([busNode, dicomInNode, toPacsNode], [
      { id: 'bus', type: 'passerelle-bus', mode: 'hub' },
      { id: 'in', type: 'passerelle-dicom-in', bus: 'bus', aeTitle: 'PASSERELLE', port, wires: [options.viaBus ? ['stored'] : ['pacs', 'stored']] },
      { id: 'pacs', type: 'passerelle-to-pacs', bus: options.viaBus ? 'bus' : '', pacs, callingAeTitle: 'PASSERELLE', timeout: 30, maxAttempts: 5, retryMax: 1, ...options.toPacs, wires: [['out']] },
      { id: 'stored', type: 'helper' },
      { id: 'out', type: 'helper' },
    ]);
    const deliveries: DeliveryEvent[] = [];
    helper.getNode('out').on('input', (msg: { payload: DeliveryEvent }) => deliveries.push(msg.payload));
    helper.getNode('stored').on('input', (msg: { payload: ImagingEvent }) => stored.push(msg));
    const errors: string[] = [];
    helper.getNode('pacs').on('call:error', (call: { args: unknown[] }) => errors.push(String(call.args[0])));
    await waitUntil(() => readiness().starting.length === 0, 10_000, () => `ready: ${readiness().starting.join(', ')}`);
    return { port, stored, deliveries, errors };
  }

  it('through the bus to a real Orthanc: the three fixtures arrive with the same SOP instance UID and pixel data', async () => {
    const { port, stored, deliveries } = await load(`${orthanc.aeTitle}@127.0.0.1:${orthanc.dicomPort}`, { viaBus: true });
    expect((await storescu(port, FIXTURES.slice(0, 2).map((n) => sharedFixture('dicom', n)))).code).to.equal(0);
    expect((await storescu(port, [sharedFixture('dicom', FIXTURES[2])], { extra: ['-xy'] })).code).to.equal(0);
    await waitUntil(() => deliveries.filter((d) => d.state === 'accepted').length === 3, 30_000, () => `3 accepted, got ${JSON.stringify(deliveries.map((d) => d.state))}`);
    expect(deliveries.filter((d) => d.state === 'accepted').map((d) => d.resultId)).to.deep.equal(stored.map((s) => s.payload.id));
    expect(deliveries.find((d) => d.state === 'accepted')).to.include({ ackCode: 'AA', destination: 'pacs', attempts: 1 });
    for (const [i, { payload }] of stored.entries()) {
      const inOrthanc = await orthanc.fileOf(payload.instance.sopInstanceUid);
      expect(inOrthanc, `${FIXTURES[i]} in Orthanc`).to.not.equal(undefined);
      expect(pixelDataOf(inOrthanc!).equals(pixelDataOfFile(sharedFixture('dicom', FIXTURES[i]))), `${FIXTURES[i]} pixel data`).to.equal(true);
    }
    await waitUntil(() => statusesOf(helper.getNode('pacs')).some((s) => s.fill === 'green' && s.text === 'passerelle-to-pacs.status.queue'), 5000, () => 'a green status');
  });

  it('with storage commitment: the PACS commits each object, its report reaches the DICOM in node, the output and the bus say committed', async () => {
    const port = await freePort();
    const committing = await startOrthanc({ aeTitle: 'COMMITTING', modalities: { hub: { aeTitle: 'PASSERELLE', host: '127.0.0.1', port } } });
    try {
      const { stored, deliveries } = await load(`COMMITTING@127.0.0.1:${committing.dicomPort}`, { viaBus: true, port, toPacs: { commitment: true, commitOverdue: 5 } });
      const onBus: Array<{ topic: string; state: string }> = [];
      const watcher = await BusClient.connect({ url: harness.broker.url, clientId: `to-pacs-test-${Date.now()}` });
      await watcher.subscribeDurable('passerelle/v1/node-site/imaging/pacs/commitment', async (topic, payload) => { onBus.push({ topic, state: JSON.parse(payload.toString()).state }); });
      expect((await storescu(port, FIXTURES.slice(0, 2).map((n) => sharedFixture('dicom', n)))).code).to.equal(0);
      await waitUntil(() => deliveries.filter((d) => (d.state as string) === 'committed').length === 2, 30_000, () => `2 committed, got ${JSON.stringify(deliveries.map((d) => d.state))}`);
      const committed = deliveries.filter((d) => (d.state as string) === 'committed') as unknown as Array<{ resultId: string; sopInstanceUid: string; destination: string }>;
      expect(committed.map((c) => c.resultId).sort()).to.deep.equal(stored.map((s) => s.payload.id).sort());
      expect(committed.map((c) => c.sopInstanceUid).sort()).to.deep.equal(stored.map((s) => s.payload.instance.sopInstanceUid).sort());
      await waitUntil(() => onBus.filter((m) => m.state === 'committed').length === 2, 10_000, () => `2 committed on the bus, got ${JSON.stringify(onBus)}`);
      await waitUntil(() => statusesOf(helper.getNode('pacs')).some((s) => s.fill === 'green' && s.text === 'passerelle-to-pacs.status.queue · passerelle-to-pacs.status.to-commit'), 5000, () => 'a green status with the commitments');
      const store = Store.open({ dir: join(harness.dataDir, 'journal') });
      try {
        expect(store.commitments().depth('pacs')).to.include({ committed: 2, waiting: 0, requested: 0 });
        const reports = store.listInbound({ channel: 'dicom:in', limit: 10 }).filter((e) => e.contentType === COMMITMENT_REPORT_CONTENT_TYPE);
        expect(reports.length, 'the reports journaled by DICOM in').to.be.at.least(1);
      } finally {
        store.close();
      }
      await watcher.close();
    } finally {
      await committing.stop();
    }
  });

  it('wired to dcmtk storescp that is down at first: unreachable, the queue waits, then accepted once it is up', async () => {
    const storescpPort = await freePort();
    const { port, deliveries } = await load(`STORESCP@127.0.0.1:${storescpPort}`, { viaBus: false });
    const file = sharedFixture('dicom', FIXTURES[0]);
    expect((await storescu(port, [file])).code).to.equal(0);
    await waitUntil(() => deliveries.some((d) => d.state === 'unreachable'), 10_000, () => 'unreachable');
    await waitUntil(() => statusesOf(helper.getNode('pacs')).some((s) => s.fill === 'red' && String(s.text).startsWith('passerelle-to-pacs.status.unreachable')), 5000, () => 'a red status');
    let storescp: RunningStorescp | undefined;
    try {
      storescp = await startStorescp(join(work.dir, 'storescp'), { port: storescpPort });
      await waitUntil(() => deliveries.some((d) => d.state === 'accepted'), 20_000, () => 'accepted');
      const received = readdirSync(storescp.dir);
      expect(received).to.have.length(1);
      expect(pixelDataOfFile(join(storescp.dir, received[0])).equals(pixelDataOfFile(file))).to.equal(true);
      // Waiting for the PACS used up no attempt.
      expect(deliveries.find((d) => d.state === 'accepted')!.attempts).to.equal(1);
    } finally {
      await storescp?.stop();
    }
  });

  it('a PACS that refuses the hub: retried, then a dead letter raised for Catch nodes, kept in the outbound queue', async () => {
    const { port, deliveries, errors } = await load(`WRONG-AET@127.0.0.1:${orthanc.dicomPort}`, { viaBus: false, toPacs: { maxAttempts: 2 } });
    expect((await storescu(port, [sharedFixture('dicom', FIXTURES[0])])).code).to.equal(0);
    await waitUntil(() => deliveries.some((d) => d.state === 'dead'), 20_000, () => `dead, got ${JSON.stringify(deliveries.map((d) => d.state))}`);
    expect(deliveries.map((d) => d.state)).to.deep.equal(['sent', 'rejected', 'sent', 'dead']);
    const dead = deliveries.find((d) => d.state === 'dead')!;
    expect(dead).to.include({ ackCode: 'AR', attempts: 2, reason: 'AR: association rejected: called AE title not recognized' });
    expect(errors).to.deep.equal(['passerelle-to-pacs.errors.dead']);
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      expect(store.getOutbound(dead.outboundId)).to.include({ state: 'dead', contentType: 'application/vnd.passerelle.dicom-forward+json' });
    } finally {
      store.close();
    }
  });

  it('refuses what is not an imaging event with done(err), journaled as rejected', async () => {
    await load(`${orthanc.aeTitle}@127.0.0.1:${orthanc.dicomPort}`, { viaBus: false });
    const pacs = helper.getNode('pacs');
    const failed = new Promise<string>((resolve) => pacs.on('call:error', (call: { args: unknown[] }) => resolve(String(call.args[0]))));
    pacs.receive({ payload: { schema: 'passerelle.imaging/1', id: 'x' } });
    expect(await failed).to.contain('passerelle-to-pacs.errors.invalid');
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      const [entry] = store.listInbound({ channel: 'wire:pacs', limit: 1 });
      expect(entry).to.include({ status: 'rejected' });
      expect(entry.error).to.match(/^invalid imaging event: .*must have required property/);
    } finally {
      store.close();
    }
  });

  it('sends the file as stored: storescp gets the very bytes the hub wrote after its meta header', async () => {
    const storescp = await startStorescp(join(work.dir, 'scp'));
    try {
      const { port, stored, deliveries } = await load(`${storescp.aeTitle}@127.0.0.1:${storescp.port}`, { viaBus: false });
      expect((await storescu(port, [sharedFixture('dicom', FIXTURES[1])])).code).to.equal(0);
      await waitUntil(() => deliveries.some((d) => d.state === 'accepted'), 20_000, () => 'accepted');
      const ours = readFileSync(stored[0].payload.file.path);
      const theirs = readFileSync(join(storescp.dir, readdirSync(storescp.dir)[0]));
      expect(pixelDataOf(theirs).equals(pixelDataOf(ours))).to.equal(true);
    } finally {
      await storescp.stop();
    }
  });

  it('the example flow (examples/06-dicom-to-pacs.json) runs: an X-ray sent to it reaches Orthanc', async () => {
    const flow = (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'examples', '06-dicom-to-pacs.json'), 'utf8')) as Array<Record<string, unknown>>)
      .filter((n) => String(n.type).startsWith('passerelle-'));
    const port = await freePort();
    process.env.PACS_DICOM = `${orthanc.aeTitle}@127.0.0.1:${orthanc.dicomPort}`;
    try {
      // Without their tab and position (Node-RED ignores a node placed on no tab: the helper's flows
      // have none), the debug nodes swapped for a helper.
      const nodes = flow.map(({ z: _tab, x: _x, y: _y, ...n }) => ({ ...n, ...(n.type === 'passerelle-dicom-in' ? { port, wires: [[]] } : {}), ...(n.type === 'passerelle-to-pacs' ? { wires: [['out']] } : {}) }));
      await helper.load([busNode, dicomInNode, toPacsNode], [...nodes, { id: 'out', type: 'helper' }]);
      const deliveries: DeliveryEvent[] = [];
      helper.getNode('out').on('input', (msg: { payload: DeliveryEvent }) => deliveries.push(msg.payload));
      await waitUntil(() => readiness().starting.length === 0, 10_000, () => 'ready');
      const file = sharedFixture('dicom', FIXTURES[0]);
      const run = await storescu(port, [file], { calling: 'XRAY1' });
      expect(run.code, run.stderr).to.equal(0);
      await waitUntil(() => deliveries.some((d) => d.state === 'accepted'), 20_000, () => 'accepted');
      const accepted = deliveries.find((d) => d.state === 'accepted')!;
      expect(accepted.destination).to.equal('ex06-to-pacs');
    } finally {
      delete process.env.PACS_DICOM;
    }
  });
});
