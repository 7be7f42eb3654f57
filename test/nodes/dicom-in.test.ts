/**
 * passerelle-dicom-in with real modalities: dcmtk's storescu and echoscu send the three real
 * fixtures and objects written here to the node; each imaging event comes out on the output and
 * on the bus, the file and the event are in the journal, accents come out right. Unknown calling
 * AE titles are refused and reported; a cut object is journaled as rejected and raised. A loop of
 * several hundred megabytes is received with the process's memory flat (RSS growth printed).
 */
import { expect } from 'chai';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BusClient } from '../../adapters/bus';
import { readiness } from '../../adapters/common/readiness';
import { StoreScu } from '../../adapters/dicom';
import { Store, type InboundEntry } from '../../adapters/journal';
import { validateImagingEvent, type ImagingEvent } from '../../adapters/model';
import { echoscu, storescu } from '../support/dcmtk';
import { waitUntil } from '../support/hub-process';
import { freePort, tempDir } from '../support/net';
import { sharedFixture } from '../support/shared';
import { writeObject } from '../adapters/dicom/objects';
import { pixelDataOfFile } from '../adapters/dicom/pixels';
import { busNode, helper, startHarness, statusesOf, type Harness } from './harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dicomInNode = require('../../nodes/dicom-in/dicom-in.js');

interface Output { topic: string; payload: ImagingEvent; journalId: string }
const SC = '1.2.840.10008.5.1.4.1.1.7';
const US_MULTIFRAME = '1.2.840.10008.5.1.4.1.1.3.1';

describe('passerelle-dicom-in node', function () {
  this.timeout(120_000);
  let harness: Harness;
  let watcher: BusClient | undefined;
  let work: { dir: string; remove: () => void };

  before(async () => { harness = await startHarness(); });
  after(async () => { await harness.stop(); });
  beforeEach(() => { work = tempDir('passerelle-dicom-in-'); });
  afterEach(async () => {
    await helper.unload();
    await watcher?.close();
    watcher = undefined;
    work.remove();
  });

  async function watch(): Promise<Array<{ topic: string; payload: ImagingEvent }>> {
    watcher = await BusClient.connect({ url: harness.broker.url, clientId: `dicom-in-test-${Date.now()}` });
    const seen: Array<{ topic: string; payload: ImagingEvent }> = [];
    await watcher.subscribeDurable('passerelle/v1/node-site/imaging/+/stored', async (topic, payload) => { seen.push({ topic, payload: JSON.parse(payload.toString()) }); });
    return seen;
  }

  async function load(config: Record<string, unknown> = {}) {
    const port = await freePort();
    await helper.load([busNode, dicomInNode], [
      { id: 'bus', type: 'passerelle-bus', mode: 'hub' },
      { id: 'in', type: 'passerelle-dicom-in', bus: 'bus', aeTitle: 'PASSERELLE', port, callingAeTitles: '', ...config, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const outputs: Output[] = [];
    helper.getNode('out').on('input', (msg: Output) => outputs.push(msg));
    const errors: Array<{ text: string; msg: unknown }> = [];
    const warnings: string[] = [];
    helper.getNode('in').on('call:error', (call: { args: unknown[] }) => errors.push({ text: String(call.args[0]), msg: call.args[1] }));
    helper.getNode('in').on('call:warn', (call: { args: unknown[] }) => warnings.push(String(call.args[0])));
    await waitUntil(() => !readiness().starting.some((s) => s.includes('passerelle-dicom-in in:')), 10_000, () => 'the DICOM port open');
    return { port, outputs, errors, warnings };
  }

  function journal(channel: string): InboundEntry[] {
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      return store.listInbound({ channel, limit: 100 });
    } finally {
      store.close();
    }
  }

  it('stores the three real fixtures from storescu: events on the output and the bus, file and event journaled', async () => {
    const onBus = await watch();
    const { port, outputs } = await load();
    expect((await echoscu(port)).code).to.equal(0);
    const files = ['cr_agfa_cspine_16x16.dcm', 'ot_iso-ir-100_german-patient-name.dcm'].map((n) => sharedFixture('dicom', n));
    expect((await storescu(port, files, { calling: 'XRAY1' })).code).to.equal(0);
    const loop = sharedFixture('dicom', 'us_acuson_8frame_jpeg-baseline.dcm');
    expect((await storescu(port, [loop], { calling: 'ECHO1', extra: ['-xy'] })).code).to.equal(0);
    expect(outputs.map((o) => o.topic)).to.deep.equal([
      'passerelle/v1/node-site/imaging/XRAY1/stored', 'passerelle/v1/node-site/imaging/XRAY1/stored', 'passerelle/v1/node-site/imaging/ECHO1/stored',
    ]);
    for (const [i, { payload }] of outputs.entries()) {
      validateImagingEvent(payload);
      expect(payload.file.path.startsWith(join(harness.dataDir, 'dicom', 'PASSERELLE'))).to.equal(true);
      expect(statSync(payload.file.path).size).to.equal(payload.file.size);
      expect(pixelDataOfFile(payload.file.path).equals(pixelDataOfFile([...files, loop][i]))).to.equal(true);
    }
    expect(outputs.map((o) => o.payload.modality)).to.deep.equal(['CR', 'OT', 'US']);
    expect(outputs[1].payload.patient?.name).to.deep.equal({ family: 'Äneas', given: ['Rüdiger'] });
    await waitUntil(() => onBus.length === 3, 10_000, () => 'three events on the bus');
    expect(onBus.map((m) => m.payload.id)).to.deep.equal(outputs.map((o) => o.payload.id));
    expect(onBus[1].payload.patient?.name?.family).to.equal('Äneas');
    // The journal: per object, the file (by path) and the event; the event points at the file's entry.
    const entries = journal('dicom:in').reverse();
    expect(entries.map((e) => e.contentType)).to.deep.equal([
      'application/vnd.passerelle.dicom-file+json', 'application/json', 'application/vnd.passerelle.dicom-file+json', 'application/json',
      'application/vnd.passerelle.dicom-file+json', 'application/json',
    ]);
    const fileRef = JSON.parse(entries[0].raw.toString()) as { path: string; sha256: string };
    expect(fileRef.path).to.equal(outputs[0].payload.file.path);
    expect(outputs[0].payload.raw?.journalId).to.equal(entries[0].id);
    expect(entries[1].id).to.equal(outputs[0].journalId);
    expect(statusesOf(helper.getNode('in')).pop()).to.include({ fill: 'green', shape: 'dot', text: 'passerelle-dicom-in.status.stored' });
  });

  it('French names in ISO_IR 100 and ISO_IR 192 come out right on the bus', async () => {
    const onBus = await watch();
    const { port } = await load({ deviceId: 'radio-1' });
    const latin1 = await writeObject(join(work.dir, 'a.dcm'), { sopClassUid: SC, characterSet: 'ISO_IR 100', patientName: 'NOËL^Hélène^Françoise', pixels: { rows: 4, columns: 4 } });
    const utf8 = await writeObject(join(work.dir, 'b.dcm'), { sopClassUid: SC, characterSet: 'ISO_IR 192', patientName: 'GAUTIER^Noël', pixels: { rows: 4, columns: 4 } });
    expect((await storescu(port, [latin1.path, utf8.path])).code).to.equal(0);
    await waitUntil(() => onBus.length === 2, 10_000, () => 'two events on the bus');
    expect(onBus.map((m) => m.topic)).to.deep.equal(['passerelle/v1/node-site/imaging/radio-1/stored', 'passerelle/v1/node-site/imaging/radio-1/stored']);
    expect(onBus.map((m) => m.payload.patient?.name)).to.deep.equal([{ family: 'NOËL', given: ['Hélène', 'Françoise'] }, { family: 'GAUTIER', given: ['Noël'] }]);
  });

  it('refuses a modality not in the list (storescu -aet WRONG) and says so; the listed ones are unaffected', async () => {
    const { port, outputs, warnings } = await load({ callingAeTitles: 'XRAY1, ECHO1' });
    const file = sharedFixture('dicom', 'cr_agfa_cspine_16x16.dcm');
    const wrong = await storescu(port, [file], { calling: 'WRONG' });
    expect(wrong.code).to.not.equal(0);
    expect(wrong.stderr).to.match(/Calling AE Title Not Recognized/i);
    expect(warnings).to.deep.equal(['passerelle-dicom-in.errors.association']);
    expect((await storescu(port, [file], { calling: 'ECHO1' })).code).to.equal(0);
    expect(outputs).to.have.length(1);
  });

  it('a cut object: refused, journaled as rejected with the reason, raised for Catch nodes, nothing published', async () => {
    const { port, outputs, errors } = await load();
    const cut = await writeObject(join(work.dir, 'cut.dcm'), { sopClassUid: US_MULTIFRAME, modality: 'US', encapsulated: { transferSyntaxUid: '1.2.840.10008.1.2.4.50', fragment: Buffer.alloc(1000, 3), cut: true } });
    const ack = await new StoreScu({ pacs: { aeTitle: 'PASSERELLE', host: '127.0.0.1', port }, callingAeTitle: 'ECHO1' }).send(Buffer.from(JSON.stringify({ path: cut.path })), 'C1', 10_000);
    expect(ack.code).to.equal('AR');
    expect(outputs).to.deep.equal([]);
    const [entry] = journal('dicom:in');
    expect(entry).to.include({ status: 'rejected', contentType: 'application/vnd.passerelle.dicom-file+json' });
    expect(entry.error).to.contain('cut short');
    const kept = JSON.parse(entry.raw.toString()) as { path: string };
    expect(kept.path).to.contain(join('dicom', 'PASSERELLE', 'rejected'));
    expect(errors.map((e) => e.text)).to.deep.equal(['passerelle-dicom-in.errors.rejected']);
    expect(errors[0].msg).to.nested.include({ topic: 'passerelle/v1/node-site/hub/in/error', 'payload.journalId': entry.id });
    expect(statusesOf(helper.getNode('in')).pop()).to.include({ fill: 'red' });
  });

  it('receives a 300 MB ultrasound loop with memory flat (RSS growth printed)', async () => {
    const { port, outputs } = await load();
    const loop = await writeObject(join(work.dir, 'loop.dcm'), { sopClassUid: US_MULTIFRAME, modality: 'US', pixels: { rows: 600, columns: 800, frames: 210, samplesPerPixel: 3 } });
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    try {
      const run = await storescu(port, [loop.path]);
      expect(run.code, run.stderr).to.equal(0);
    } finally {
      clearInterval(sampler);
    }
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    console.log(`      object ${mb(loop.size)} MB; hub process RSS before ${mb(before)} MB, peak ${mb(peak)} MB, growth ${mb(peak - before)} MB`);
    expect(outputs).to.have.length(1);
    const stored = outputs[0].payload.file;
    expect(statSync(stored.path).size).to.equal(stored.size);
    // The pixel data of the copy is the pixel data sent (the files differ only by their meta header).
    const sentTail = readFileSync(loop.path).subarray(loop.pixelOffset!);
    const keptTail = readFileSync(stored.path).subarray(stored.size - loop.pixelLength!);
    expect(keptTail.equals(sentTail)).to.equal(true);
    // Flat: what grows is the garbage collector's lag over fixed-size buffers (tens of MB), not the object.
    expect(peak - before).to.be.lessThan(150 * 1024 * 1024);
  });
});
