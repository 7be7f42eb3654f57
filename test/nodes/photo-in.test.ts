/**
 * passerelle-photo-in with real peers: the cart simulator publishes a teleconsultation's photo (a
 * JPEG made by cjpeg) on the hub's broker, the node makes a VL Photographic object of it, "to
 * PACS" forwards it to a real Orthanc, and Orthanc's REST API shows the patient, the study, the
 * coded region and a pixel data fragment identical to the JPEG (dcmdump reads Orthanc's file);
 * the DICOM in node's study notification tells the record about the teleconsultation's study.
 * Also: the bytes before their companion, a restart between the two, a watched folder (done/ and
 * rejected/), a PDF on the wire, and bad input journaled as rejected while the next photo goes on.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readiness } from '../../adapters/common/readiness';
import { BusClient } from '../../adapters/bus';
import type { DeliveryEvent } from '../../adapters/delivery';
import { PHOTO_PAIRED_CONTENT_TYPE, teleconsultationStudyUid, type PhotoCompanion } from '../../adapters/dicom';
import { Store } from '../../adapters/journal';
import type { ImagingEvent, Result } from '../../adapters/model';
import { runCart, simulatedPhoto, simulatedVitals } from '../../simulators/cart';
import { patientOf } from '../../adapters/vitals/cart';
import { fragmentsOf } from '../adapters/dicom/pixels';
import { runTool } from '../support/dcmtk';
import { waitUntil } from '../support/hub-process';
import { makeJpeg, tinyPdf } from '../support/photos';
import { freePort, tempDir } from '../support/net';
import { startOrthanc, type RunningOrthanc } from '../support/orthanc';
import { busNode, helper, startHarness, statusesOf, toRecordNode, type Harness } from './harness';
import { SimulatedRecord } from '../../simulators/record';
import { parseWithPython, pyComponents } from '../support/python-hl7';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const photoInNode = require('../../nodes/photo-in/photo-in.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const toPacsNode = require('../../nodes/to-pacs/to-pacs.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dicomInNode = require('../../nodes/dicom-in/dicom-in.js');

const SITE = 'node-site';
const TOPIC = `passerelle/v1/${SITE}/cart/chariot-sim/photo`;

describe('passerelle-photo-in node', function () {
  this.timeout(120_000);
  let harness: Harness;
  let orthanc: RunningOrthanc;
  let publisher: BusClient;
  let work: { dir: string; remove: () => void };
  const jpeg = makeJpeg({ width: 96, height: 64 });

  before(async () => {
    harness = await startHarness();
    orthanc = await startOrthanc();
    publisher = await BusClient.connect({ url: harness.broker.url, clientId: 'photo-test-publisher' });
  });
  after(async () => {
    await publisher.close();
    await orthanc.stop();
    await harness.stop();
  });
  /** What a test started beside the nodes (a simulated record), stopped after it. */
  const cleanups: Array<() => Promise<void>> = [];
  beforeEach(() => { work = tempDir('passerelle-photo-in-'); });
  afterEach(async () => {
    await helper.unload();
    for (const cleanup of cleanups.splice(0)) await cleanup();
    work.remove();
  });

  const journal = <T>(fn: (store: Store) => T): T => {
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      return fn(store);
    } finally {
      store.close();
    }
  };

  async function load(props: Record<string, unknown> = {}, extra: object[] = [], nodes: unknown[] = []) {
    await helper.load([busNode, photoInNode, ...nodes], [
      { id: 'bus', type: 'passerelle-bus', mode: 'hub' },
      { id: 'photo', type: 'passerelle-photo-in', bus: 'bus', mqtt: true, folder: '', aeTitle: 'PASSERELLE', dermoscopy: 'XC', wires: [['out']], ...props },
      { id: 'out', type: 'helper' },
      ...extra,
    ]);
    const stored: ImagingEvent[] = [];
    const errors: string[] = [];
    helper.getNode('out').on('input', (msg: { payload: ImagingEvent }) => stored.push(msg.payload));
    // The test helper loads no catalogue: an error is its key, and the reason is in the message's payload (or the Error of done(err)).
    helper.getNode('photo').on('call:error', (call: { args: unknown[] }) => {
      const [first, msg] = call.args as [unknown, { payload?: { error?: string } } | undefined];
      errors.push(first instanceof Error ? first.message : `${String(first)}: ${msg?.payload?.error ?? ''}`);
    });
    await waitUntil(() => readiness().starting.length === 0, 10_000, () => `ready: ${readiness().starting.join(', ')}`);
    return { stored, errors, node: helper.getNode('photo') };
  }

  it('the simulator\'s photo reaches a real Orthanc through to-pacs: VL Photographic, its patient, study, region, and the JPEG as its fragment; the record is told the study', async () => {
    const dicomPort = await freePort();
    const record = await new SimulatedRecord().start();
    cleanups.push(() => record.stop());
    const { stored } = await load({}, [
      { id: 'rec', type: 'passerelle-to-record', bus: 'bus', endpoint: `127.0.0.1:${record.port}`, charset: 'UNICODE UTF-8', format: 'v2.5-loinc', ackTimeout: 2, maxAttempts: 2, retryMax: 1, window: 1, wires: [[]] },
      { id: 'pacs', type: 'passerelle-to-pacs', bus: 'bus', pacs: `${orthanc.aeTitle}@127.0.0.1:${orthanc.dicomPort}`, callingAeTitle: 'PASSERELLE', timeout: 30, maxAttempts: 3, retryMax: 1, wires: [['deliveries']] },
      { id: 'deliveries', type: 'helper' },
      { id: 'in', type: 'passerelle-dicom-in', bus: 'bus', aeTitle: 'PASSERELLE', port: dicomPort, notify: true, quietPeriod: 1, wires: [[], ['told']] },
      { id: 'told', type: 'helper' },
    ], [toPacsNode, dicomInNode, toRecordNode]);
    const deliveries: DeliveryEvent[] = [];
    helper.getNode('deliveries').on('input', (msg: { payload: DeliveryEvent }) => deliveries.push(msg.payload));
    const told: Result[] = [];
    helper.getNode('told').on('input', (msg: { payload: Result }) => told.push(msg.payload));
    const file = join(work.dir, 'tympan.jpg');
    writeFileSync(file, jpeg);
    const published = await runCart({ mqtt: harness.broker.url, site: SITE, cart: 'chariot-sim', count: 1, everyMs: 0, fhir: false, photo: file, photoDevice: 'otoscope', region: 'tympanic-membrane', laterality: 'right' });
    const teleconsultation = published[0].message.teleconsultation.id;
    await waitUntil(() => deliveries.some((d) => d.state === 'accepted'), 30_000, () => `accepted, got ${JSON.stringify(deliveries.map((d) => d.state))}`);
    expect(stored).to.have.length(1);
    const event = stored[0];
    expect(event).to.deep.include({ modality: 'XC', bodyPart: 'EAR' });
    expect(event.instance).to.include({ sopClassUid: '1.2.840.10008.5.1.4.1.1.77.1.4', sopClassName: 'VL Photographic Image Storage' });
    expect(event.study.instanceUid).to.equal(teleconsultationStudyUid(SITE, teleconsultation));
    expect(event.source).to.include({ deviceId: 'chariot-sim', callingAeTitle: 'chariot-sim', calledAeTitle: 'PASSERELLE', manufacturer: 'Firefly', model: 'DE500' });
    expect(event.file.transferSyntaxUid).to.equal('1.2.840.10008.1.2.4.50');

    // Orthanc's view of it.
    const found = (await (await fetch(`${orthanc.httpUrl}/tools/find`, { method: 'POST', body: JSON.stringify({ Level: 'Instance', Query: { SOPInstanceUID: event.instance.sopInstanceUid } }) })).json()) as string[];
    expect(found).to.have.length(1);
    const tags = (await (await fetch(`${orthanc.httpUrl}/instances/${found[0]}/simplified-tags`)).json()) as Record<string, unknown>;
    expect(tags).to.include({
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.77.1.4', Modality: 'XC', PatientName: 'NOËL^Hélène^Françoise', PatientID: '284037512345678',
      StudyInstanceUID: teleconsultationStudyUid(SITE, teleconsultation), StudyID: teleconsultation, Rows: '64', Columns: '96',
      PhotometricInterpretation: 'YBR_FULL_422', Laterality: 'R', BodyPartExamined: 'EAR', SpecificCharacterSet: 'ISO_IR 192',
    });
    const region = (tags.AnatomicRegionSequence as Array<Record<string, unknown>>)[0];
    expect(region).to.include({ CodeValue: '42859004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Tympanic membrane' });
    expect((region.AnatomicRegionModifierSequence as Array<Record<string, unknown>>)[0]).to.include({ CodeValue: '24028007', CodeMeaning: 'Right' });
    const inOrthanc = (await orthanc.fileOf(event.instance.sopInstanceUid))!;
    const fragments = fragmentsOf(inOrthanc);
    expect(fragments).to.have.length(1);
    expect(fragments[0].subarray(0, jpeg.length).equals(jpeg), 'the JPEG byte for byte').to.equal(true);
    const downloaded = join(work.dir, 'orthanc.dcm');
    writeFileSync(downloaded, inOrthanc);
    const dump = await runTool('dcmdump', ['+U8', downloaded]);
    expect(dump.code, dump.stderr).to.equal(0);
    expect(dump.stdout).to.match(/\(7fe0,0010\) OB \(PixelSequence #=2\)/).and.contain(`# ${jpeg.length + (jpeg.length % 2)}, 1 Item`);

    // The record's notification (DICOM in's, after the quiet second) names the study and the teleconsultation.
    await waitUntil(() => told.length > 0, 20_000, () => 'the study told');
    const result = told.find((r) => r.observations.some((o) => o.value === event.study.instanceUid))!;
    expect(result).to.not.equal(undefined);
    expect(result.patient).to.include({ matched: true, matchedBy: 'device' });
    // The patient as the teleconsultation's vitals give it: INS with its type and authority, the local id.
    expect(result.patient!.identifiers).to.deep.equal(patientOf(published[0].message.patient).identifiers);
    expect(result.patient!.identifiers[0]).to.include({ value: '284037512345678', type: 'INS-NIR', authority: '1.2.250.1.213.1.4.8' });
    expect(result.encounter).to.deep.equal({ id: teleconsultation, location: 'Salle de téléconsultation 2' });
    // The record's ORU, read by python3-hl7: the patient's INS, the teleconsultation in PV1-19, the study's UID in an OBX.
    await waitUntil(() => record.received.length > 0, 20_000, () => 'the ORU at the record');
    const oru = parseWithPython(record.received[0].bytes);
    expect(pyComponents(oru, 'PID', 3)!.slice(0, 1)).to.deep.equal(['284037512345678']);
    expect(pyComponents(oru, 'PID', 5)!.slice(0, 2)).to.deep.equal(['NOËL', 'Hélène']);
    expect(pyComponents(oru, 'PV1', 19)![0]).to.equal(teleconsultation);
    const obx = oru.segments.filter((seg) => seg.name === 'OBX').map((seg) => seg.fields[5]?.[0]?.[0]?.[0]);
    expect(obx).to.include(event.study.instanceUid);
  });

  it('a dermatoscope\'s photo as Dermoscopic Photography (DMS), wired to to-pacs: Debian\'s Orthanc (1.10) takes the class', async () => {
    const { stored } = await load({ bus: '', dermoscopy: 'DMS', wires: [['out', 'pacs']] }, [
      { id: 'pacs', type: 'passerelle-to-pacs', bus: '', pacs: `${orthanc.aeTitle}@127.0.0.1:${orthanc.dicomPort}`, callingAeTitle: 'PASSERELLE', timeout: 30, maxAttempts: 3, retryMax: 1, wires: [['deliveries']] },
      { id: 'deliveries', type: 'helper' },
    ], [toPacsNode]);
    const deliveries: DeliveryEvent[] = [];
    helper.getNode('deliveries').on('input', (msg: { payload: DeliveryEvent }) => deliveries.push(msg.payload));
    helper.getNode('photo').receive({ payload: jpeg, photo: simulatedPhoto(simulatedVitals(6, 'chariot-sim'), jpeg, { photoDevice: 'dermatoscope', region: 'skin-of-back' }) });
    await waitUntil(() => deliveries.some((d) => d.state === 'accepted'), 20_000, () => `accepted, got ${JSON.stringify(deliveries.map((d) => d.state))}`);
    const found = (await (await fetch(`${orthanc.httpUrl}/tools/find`, { method: 'POST', body: JSON.stringify({ Level: 'Instance', Query: { SOPInstanceUID: stored[0].instance.sopInstanceUid } }) })).json()) as string[];
    const tags = (await (await fetch(`${orthanc.httpUrl}/instances/${found[0]}/simplified-tags`)).json()) as Record<string, unknown>;
    expect(tags).to.include({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.77.1.7', Modality: 'DMS', BodyPartExamined: 'BACK', SeriesDescription: 'Dermoscopie' });
  });

  it('pairs the bytes that come before their companion, and a companion journaled before a restart with bytes after it', async () => {
    const { stored } = await load();
    const v = simulatedVitals(1, 'chariot-sim');
    const first = simulatedPhoto(v, jpeg);
    await publisher.publish(TOPIC, jpeg);
    await waitUntil(() => statusesOf(helper.getNode('photo')).some((s) => s.fill === 'yellow'), 5000, () => 'waiting for its companion');
    await publisher.publish(TOPIC, JSON.stringify(first));
    await waitUntil(() => stored.length === 1, 10_000, () => 'the first photo stored');
    expect(stored[0].instance.sopClassUid).to.equal('1.2.840.10008.5.1.4.1.1.77.1.4');

    const other = makeJpeg({ width: 40, height: 30, quality: 70 });
    const second = simulatedPhoto(v, other);
    await publisher.publish(TOPIC, JSON.stringify(second));
    await waitUntil(() => journal((s) => s.listInbound({ channel: 'photo:photo', limit: 50 }).some((e) => e.raw.toString('utf8').includes(second.id))), 5000, () => 'the companion journaled');
    await helper.unload();
    const reloaded = await load();
    await waitUntil(() => statusesOf(reloaded.node).some((s) => s.fill === 'yellow' && s.text === 'passerelle-photo-in.status.counts'), 5000, () => 'the companion restored, waiting');
    await publisher.publish(TOPIC, other);
    await waitUntil(() => reloaded.stored.length === 1, 10_000, () => 'the second photo stored after the restart');
    expect(reloaded.stored[0].study.instanceUid).to.equal(stored[0].study.instanceUid);
    expect(reloaded.stored[0].instance.sopInstanceUid).to.not.equal(stored[0].instance.sopInstanceUid);
    const paired = journal((s) => s.listInbound({ channel: 'photo:photo', limit: 50 }).filter((e) => e.contentType === PHOTO_PAIRED_CONTENT_TYPE));
    expect(paired.map((e) => JSON.parse(e.raw.toString('utf8')).sha256)).to.include.members([first.sha256, second.sha256]);
  });

  it('refuses bad input with a clear error, its bytes kept in the journal, and goes on with the next photo', async () => {
    const { stored, errors } = await load();
    const v = simulatedVitals(2, 'chariot-sim');
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1');
    await publisher.publish(TOPIC, gif);
    const progressive = makeJpeg({ extra: ['-progressive'] });
    await publisher.publish(TOPIC, JSON.stringify(simulatedPhoto(v, progressive)));
    await publisher.publish(TOPIC, progressive);
    const truncated = jpeg.subarray(0, jpeg.length - 100);
    await publisher.publish(TOPIC, JSON.stringify(simulatedPhoto(v, truncated)));
    await publisher.publish(TOPIC, truncated);
    const { patient: _p, ...noPatient } = simulatedPhoto(v, jpeg);
    await publisher.publish(TOPIC, JSON.stringify(noPatient));
    await publisher.publish(TOPIC, JSON.stringify(simulatedPhoto(v, jpeg)));
    await publisher.publish(TOPIC, jpeg);
    await waitUntil(() => stored.length === 1, 10_000, () => 'the good photo stored');
    // Each of the four refused, and no other input error. A bad message the bus delivers again (at
    // least once) is refused again, so one may come twice; the shared test broker may also drop the
    // node's connection a moment as the previous test's node leaves (errors.bus), which is not input.
    const inputErrors = errors.filter((e) => !e.startsWith('passerelle-photo-in.errors.bus'));
    const reasons = [/neither a JPEG \(FF D8\) nor a PDF/, /not a baseline JPEG: its frame is progressive \(SOF2\)/, /the JPEG file is cut short/, /must have required property 'patient'/];
    for (const reason of reasons) expect(inputErrors.some((e) => reason.test(e)), String(reason)).to.equal(true);
    for (const error of inputErrors) expect(reasons.some((reason) => reason.test(error)), error).to.equal(true);
    expect(errors.join('\n')).to.not.match(/NOËL|Hélène|284037512345678/);
    const rejected = journal((s) => s.listInbound({ channel: 'photo:photo', status: 'rejected', limit: 50 }));
    expect(rejected.some((e) => e.raw.equals(gif))).to.equal(true);
    expect(rejected.some((e) => e.raw.toString('utf8') === JSON.stringify(noPatient))).to.equal(true);
    // The progressive JPEG's bytes are journaled, and its pair closed as refused with the reason.
    const entries = journal((s) => s.listInbound({ channel: 'photo:photo', limit: 50 }));
    expect(entries.some((e) => e.raw.equals(progressive))).to.equal(true);
    expect(entries.find((e) => e.contentType === PHOTO_PAIRED_CONTENT_TYPE && e.status === 'rejected' && /progressive/.test(e.error ?? ''))).to.not.equal(undefined);
  });

  it('watches a folder: a pair is stored and moved to done/, a bad one to rejected/ with its reason', async () => {
    const folder = join(work.dir, 'drop');
    const { stored, errors } = await load({ folder, bus: '' });
    const v = simulatedVitals(3, 'chariot-sim');
    const companion: PhotoCompanion = { ...simulatedPhoto(v, jpeg, { photoDevice: 'dermatoscope' }), sha256: undefined };
    delete companion.sha256;
    writeFileSync(join(folder, 'IMG_0001.JPG'), jpeg);
    writeFileSync(join(folder, 'IMG_0001.json'), JSON.stringify(companion));
    writeFileSync(join(folder, 'IMG_0002.jpg'), jpeg.subarray(0, 300));
    writeFileSync(join(folder, 'IMG_0002.json'), JSON.stringify({ ...companion, id: 'second' }));
    writeFileSync(join(folder, 'IMG_0003.jpg'), jpeg);
    await waitUntil(() => stored.length === 1 && errors.length === 1, 10_000, () => `one stored and one refused, got ${stored.length} and ${errors.length}`);
    expect(stored[0]).to.deep.include({ modality: 'XC', bodyPart: 'FOREARM' });
    expect(readdirSync(join(folder, 'done')).sort()).to.deep.equal(['IMG_0001.JPG', 'IMG_0001.json']);
    await waitUntil(() => existsSync(join(folder, 'rejected', 'IMG_0002.error.txt')), 5000, () => 'the reason written');
    expect(readFileSync(join(folder, 'rejected', 'IMG_0002.error.txt'), 'utf8')).to.match(/the JPEG file is cut short/);
    // A JPEG without its companion waits.
    expect(existsSync(join(folder, 'IMG_0003.jpg'))).to.equal(true);
    const raw = journal((s) => s.listInbound({ channel: 'photo:photo', limit: 50 }));
    expect(raw.some((e) => e.contentType === 'image/jpeg' && e.raw.equals(jpeg))).to.equal(true);
  });

  it('takes a PDF report and its companion on its input: an Encapsulated PDF of the teleconsultation; without a companion, done(err)', async () => {
    const { stored, errors } = await load({ bus: '' });
    const pdf = tinyPdf();
    const v = simulatedVitals(4, 'chariot-sim');
    helper.getNode('photo').receive({ payload: pdf, photo: simulatedPhoto(v, pdf) });
    await waitUntil(() => stored.length === 1, 10_000, () => 'the PDF stored');
    expect(stored[0]).to.deep.include({ modality: 'DOC' });
    expect(stored[0].instance.sopClassUid).to.equal('1.2.840.10008.5.1.4.1.1.104.1');
    expect(stored[0].study.instanceUid).to.equal(teleconsultationStudyUid(SITE, v.teleconsultation.id));
    helper.getNode('photo').receive({ payload: pdf });
    await waitUntil(() => errors.length === 1, 5000, () => 'done(err)');
    expect(errors[0]).to.equal('passerelle-photo-in.errors.wire');
    helper.getNode('photo').receive({ payload: Buffer.from('%PDF-1.4 cut'), photo: simulatedPhoto(v, Buffer.from('%PDF-1.4 cut')) });
    await waitUntil(() => errors.length === 2, 5000, () => 'done(err) for a PDF cut short');
    expect(errors[1]).to.equal('passerelle-photo-in.errors.invalid');
  });

  it('the example flow (examples/09-cart-photos-to-pacs.json) runs: a pair dropped in PHOTO_FOLDER reaches Orthanc', async () => {
    const flow = (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'examples', '09-cart-photos-to-pacs.json'), 'utf8')) as Array<Record<string, unknown>>)
      .filter((n) => String(n.type).startsWith('passerelle-'));
    const folder = join(work.dir, 'photos');
    process.env.PACS_DICOM = `${orthanc.aeTitle}@127.0.0.1:${orthanc.dicomPort}`;
    process.env.PHOTO_FOLDER = folder;
    try {
      // Without their tab and position, the HTTP and debug nodes left out, to-pacs wired to a helper.
      const nodes = flow.map(({ z: _tab, x: _x, y: _y, ...n }) => ({ ...n, wires: n.type === 'passerelle-to-pacs' ? [['out']] : [[]] }));
      await helper.load([busNode, photoInNode, toPacsNode], [...nodes, { id: 'out', type: 'helper' }]);
      const deliveries: DeliveryEvent[] = [];
      helper.getNode('out').on('input', (msg: { payload: DeliveryEvent }) => deliveries.push(msg.payload));
      await waitUntil(() => readiness().starting.length === 0, 10_000, () => 'ready');
      const companion = simulatedPhoto(simulatedVitals(5, 'chariot-sim'), jpeg, { photoDevice: 'camera', region: 'skin-of-hand', laterality: 'left' });
      writeFileSync(join(folder, 'main.jpg'), jpeg);
      writeFileSync(join(folder, 'main.json'), JSON.stringify(companion));
      await waitUntil(() => deliveries.some((d) => d.state === 'accepted'), 20_000, () => `accepted, got ${JSON.stringify(deliveries.map((d) => d.state))}`);
      expect(deliveries.find((d) => d.state === 'accepted')!.destination).to.equal('ex09-to-pacs');
      expect(await orthanc.instanceCount()).to.be.greaterThan(0);
    } finally {
      delete process.env.PACS_DICOM;
      delete process.env.PHOTO_FOLDER;
    }
  });
});
