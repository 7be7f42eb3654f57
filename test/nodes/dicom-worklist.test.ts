/**
 * passerelle-dicom-in's worklist, MPPS and record notification, wired as a technician would:
 * "HL7 in" indexes the record's order, dcmtk's findscu -W reads the worklist from the DICOM in
 * node's port, the simulated modality performs the exam (MPPS from it: dcmtk has no MPPS client),
 * storescu sends an image without MPPS; the second output carries the exam and the study's result.
 */
import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readiness } from '../../adapters/common/readiness';
import { readMetaHeader } from '../../adapters/dicom';
import { MllpClient } from '../../adapters/hl7';
import { parseModalityArguments, runModality } from '../../simulators/modality';
import { main as simulate } from '../../simulators/simulate';
import { runTool, storescu } from '../support/dcmtk';
import { waitUntil } from '../support/hub-process';
import { freePort, tempDir } from '../support/net';
import { sharedFixture } from '../support/shared';
import { newUid, writeObject } from '../adapters/dicom/objects';
import { SimulatedRecord } from '../../simulators/record';
import { busNode, helper, hl7InNode, startHarness, statusesOf, toRecordNode, type Harness } from './harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dicomInNode = require('../../nodes/dicom-in/dicom-in.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const toPacsNode = require('../../nodes/to-pacs/to-pacs.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const imagingOrderNode = require('../../nodes/imaging-order/imaging-order.js');

interface Message { topic: string; payload: Record<string, any> }

describe('passerelle-dicom-in node: worklist, MPPS, the record', function () {
  this.timeout(60_000);
  let harness: Harness;
  let work: { dir: string; remove: () => void };

  before(async () => { harness = await startHarness(); });
  after(async () => { await harness.stop(); });
  beforeEach(() => { work = tempDir('passerelle-dicom-worklist-'); });
  afterEach(async () => {
    await helper.unload();
    work.remove();
  });

  async function load(config: Record<string, unknown> = {}) {
    const [dicomPort, mllpPort] = [await freePort(), await freePort()];
    await helper.load([busNode, hl7InNode, dicomInNode], [
      { id: 'bus', type: 'passerelle-bus', mode: 'hub' },
      { id: 'hl7', type: 'passerelle-hl7-in', bus: 'bus', host: '127.0.0.1', port: mllpPort, source: 'ris', wires: [[]] },
      {
        id: 'in', type: 'passerelle-dicom-in', bus: 'bus', aeTitle: 'PASSERELLE', port: dicomPort, callingAeTitles: '', worklist: true, mpps: true, notify: true,
        quietPeriod: 1, stationsByModality: 'MR=MR01', viewerUrl: 'https://pacs.example/v?s={study}', ...config, wires: [['stored'], ['exams']],
      },
      { id: 'stored', type: 'helper' },
      { id: 'exams', type: 'helper' },
    ]);
    const exams: Message[] = [];
    helper.getNode('exams').on('input', (msg: Message) => exams.push(msg));
    await waitUntil(() => !readiness().starting.some((s) => s.includes('passerelle-dicom-in in:') || s.includes('hl7')), 10_000, () => 'ports open');
    return { dicomPort, mllpPort, exams };
  }

  /** The MESA ORM, or (the journal is shared by the file's tests) a copy with another accession number and study. */
  async function sendMesaOrder(mllpPort: number, copy?: { accession: string; study: string }): Promise<void> {
    const client = new MllpClient({ host: '127.0.0.1', port: mllpPort });
    let bytes = readFileSync(sharedFixture('hl7', 'orm-o01_radiology-order_mesa.hl7'));
    if (copy) bytes = Buffer.from(bytes.toString('latin1').replace('MOF5026', copy.accession).replace('1.113654.3.13.1026', copy.study), 'latin1');
    expect((await client.send(bytes, '103106', 10_000)).code).to.equal('AA');
    await client.close();
  }

  async function findscu(port: number, calling: string): Promise<{ code: number | null; out: string }> {
    const dump = join(work.dir, `${calling}.dump`);
    writeFileSync(dump, ['(0008,0050) SH []', '(0010,0010) PN []', '(0040,0100) SQ (Sequence with undefined length)', '(fffe,e000) na (Item with undefined length)',
      `(0040,0001) AE [${calling}]`, '(0040,0002) DA [20000701]', '(fffe,e00d) na', '(fffe,e0dd) na', ''].join('\n'));
    await runTool('dump2dcm', [dump, `${dump}.dcm`]);
    const run = await runTool('findscu', ['-W', '-v', '-aet', calling, '-aec', 'PASSERELLE', '127.0.0.1', String(port), `${dump}.dcm`]);
    return { code: run.code, out: run.stdout + run.stderr };
  }

  it('an ORM from "HL7 in" is on the worklist of the station its modality is given to; the exam gives started, completed, and the study\'s result', async () => {
    const { dicomPort, mllpPort, exams } = await load();
    await sendMesaOrder(mllpPort);
    const found = await findscu(dicomPort, 'MR01');
    expect(found.code, found.out).to.equal(0);
    expect(found.out).to.contain('MOF5026').and.to.contain('DOE^J1');
    expect((await findscu(dicomPort, 'CT01')).out).to.not.contain('MOF5026');

    const run = await runModality({ host: '127.0.0.1', port: dicomPort, aeTitle: 'MR01', calledAeTitle: 'PASSERELLE', date: '20000701', images: 1, files: [], mpps: true, discontinue: false, log: () => undefined });
    expect(run.mppsStatuses).to.deep.equal([0, 0]);
    await waitUntil(() => exams.length >= 3, 10_000, () => `exams: ${exams.map((e) => e.topic).join(', ')}`);
    expect(exams.map((e) => e.topic)).to.deep.equal([
      'passerelle/v1/node-site/imaging/MR01/procedure', 'passerelle/v1/node-site/imaging/MR01/procedure', 'passerelle/v1/node-site/imaging/MR01/result',
    ]);
    expect(exams.map((e) => e.payload.event ?? e.payload.kind)).to.deep.equal(['started', 'completed', 'imaging']);
    const result = exams[2].payload;
    expect(result.patient).to.deep.include({ matched: true, matchedBy: 'order', identifiers: [{ value: '583295', authority: 'ADT1' }] });
    expect(result.order).to.deep.include({ placerNumber: 'A103Z', accessionNumber: 'MOF5026' });
    expect(result.observations.map((o: { value: string }) => o.value)).to.deep.equal(['MOF5026', '1.113654.3.13.1026', 'https://pacs.example/v?s=1.113654.3.13.1026']);
    // The helper loads no message catalogue: the key says which text the editor shows.
    expect(statusesOf(helper.getNode('in')).at(-1)).to.deep.include({ fill: 'green', shape: 'dot', text: 'passerelle-dicom-in.status.stored-exams' });
  });

  it('without MPPS, a study is told after the quiet period; the simulator sends a real file byte for byte; with the services off, a worklist query is refused', async () => {
    const { dicomPort, mllpPort, exams } = await load();
    await sendMesaOrder(mllpPort);
    mkdirSync(join(work.dir, 'o'));
    const object = await writeObject(join(work.dir, 'o', 'mr.dcm'), {
      sopClassUid: '1.2.840.10008.5.1.4.1.1.7', characterSet: 'ISO_IR 100', patientName: 'DOE^J1', patientId: '583295', accessionNumber: 'MOF5026',
      studyInstanceUid: newUid(), modality: 'MR', pixels: { rows: 8, columns: 8 }, // a new study: the order's was told to the record above
    });
    const sent = Date.now();
    expect((await storescu(dicomPort, [object.path], { calling: 'MR01' })).code).to.equal(0);
    await waitUntil(() => exams.length >= 1, 10_000, () => 'the result after the quiet period');
    expect(Date.now() - sent).to.be.at.least(1000);
    expect(exams[0].payload).to.deep.include({ kind: 'imaging' });
    expect(exams[0].payload.order.accessionNumber).to.equal('MOF5026');

    // The simulated modality sending a real file as it is (its bytes: the hub's SCU), under MPPS.
    await sendMesaOrder(mllpPort, { accession: 'MOF8008', study: newUid() });
    const cr = sharedFixture('dicom', 'cr_agfa_cspine_16x16.dcm');
    const run = await runModality({ host: '127.0.0.1', port: dicomPort, aeTitle: 'MR01', calledAeTitle: 'PASSERELLE', date: '20000701', images: 0, files: [cr], mpps: true, discontinue: false, log: () => undefined });
    expect(run.stored).to.deep.equal([{
      sopClassUid: '1.2.840.10008.5.1.4.1.1.1', sopInstanceUid: '1.3.6.1.4.1.5962.1.1.0.0.0.1196527414.5534.0.11', seriesInstanceUid: '1.3.6.1.4.1.5962.1.1.0.0.0.1196527414.5534.0.10', status: 0,
    }]);
    await waitUntil(() => exams.some((e) => e.payload.event === 'completed'), 10_000, () => 'the exam completed');
    expect(exams.find((e) => e.payload.event === 'completed')!.payload).to.deep.include({ accessionNumber: 'MOF8008', series: [{ instanceUid: run.stored[0].seriesInstanceUid, images: 1 }] });
    // The hub kept the file's dataset byte for byte (private tags included), behind its own meta header.
    const kept = readFileSync(join(harness.dataDir, 'dicom', 'PASSERELLE', new Date().toISOString().slice(0, 10), `${run.stored[0].sopInstanceUid}.dcm`));
    const original = readFileSync(cr);
    expect(kept.subarray(readMetaHeader(kept).datasetOffset).equals(original.subarray(readMetaHeader(original).datasetOffset))).to.equal(true);
    await helper.unload();

    const off = await load({ worklist: false, mpps: false });
    const refused = await findscu(off.dicomPort, 'MR01');
    expect(refused.code).to.not.equal(0);
    expect(refused.out).to.match(/No Acceptable Presentation Contexts|Abstract Syntax Not Supported/i);
    // `npm run simulate -- modality` says so with its exit status; its options are checked.
    expect(await simulate(['modality', '--port', String(off.dicomPort), '--aet', 'MR01'])).to.equal(1);
    expect(() => parseModalityArguments(['--port', 'x'])).to.throw(/--port x/);
    expect(() => parseModalityArguments(['--aet', 'A_TITLE_OF_20_CHARS_'])).to.throw(/--aet/);
    expect(parseModalityArguments(['--port', '104', '--aet', 'ECHO1', '--files', 'a.dcm,b.dcm', '--no-mpps'])).to.deep.include({ port: 104, aeTitle: 'ECHO1', files: ['a.dcm', 'b.dcm'], mpps: false, images: 2 });
  });

  it('a dialog\'s bad values leave it not configured, with an error (the catalogue\'s text says what to fix)', async () => {
    for (const config of [{ stationsByModality: 'MR MR01' }, { quietPeriod: '-5' }, { viewerUrl: 'ftp://pacs/{study}' }]) {
      const port = await freePort();
      await helper.load([busNode, dicomInNode], [{ id: 'in', type: 'passerelle-dicom-in', aeTitle: 'PASSERELLE', port, ...config, wires: [[], []] }]);
      const node = helper.getNode('in');
      expect(statusesOf(node).at(-1)).to.deep.include({ fill: 'grey', shape: 'ring', text: 'passerelle-dicom-in.status.not-configured' });
      // node.error is the helper's spy too, shared by every node: its calls made by this one.
      const errors = (node as unknown as { error: { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> } }).error.getCalls().filter((c) => c.thisValue === node).map((c) => String(c.args[0]));
      expect(errors, JSON.stringify(config)).to.deep.equal(['passerelle-dicom-in.errors.config']);
      await helper.unload();
    }
  });

  it('the example flow (examples/07-imaging-worklist-mpps.json) runs: order → worklist → exam → ORU at the record; no PACS given, "to PACS" idles', async () => {
    const record = await new SimulatedRecord().start();
    const [dicomPort, mllpPort] = [await freePort(), await freePort()];
    process.env.EHR_MLLP = `127.0.0.1:${record.port}`;
    try {
      const flow = (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'examples', '07-imaging-worklist-mpps.json'), 'utf8')) as Array<Record<string, unknown>>)
        .filter((n) => String(n.type).startsWith('passerelle-'))
        // Without their tab and position, free ports, the debug nodes left out.
        .map(({ z: _tab, x: _x, y: _y, ...n }) => ({
          ...n,
          ...(n.type === 'passerelle-dicom-in' ? { port: dicomPort, stationsByModality: 'MR=MR01', wires: [[], []] } : {}),
          ...(n.type === 'passerelle-hl7-in' ? { port: mllpPort } : {}),
          ...(n.type === 'passerelle-to-record' || n.type === 'passerelle-to-pacs' || n.type === 'passerelle-imaging-order' ? { wires: [[]] } : {}),
        }));
      await helper.load([busNode, hl7InNode, dicomInNode, toPacsNode, toRecordNode, imagingOrderNode], flow);
      await waitUntil(() => readiness().starting.length === 0, 10_000, () => 'ready');
      expect(statusesOf(helper.getNode('ex07-to-pacs')).at(-1)).to.deep.include({ fill: 'grey', shape: 'ring' });
      const study = newUid();
      await sendMesaOrder(mllpPort, { accession: 'MOF7007', study });
      const run = await runModality({ host: '127.0.0.1', port: dicomPort, aeTitle: 'MR01', calledAeTitle: 'PASSERELLE', date: '20000701', images: 1, files: [], mpps: true, discontinue: false, log: () => undefined });
      expect(run.mppsStatuses).to.deep.equal([0, 0]);
      expect(run.step.StudyInstanceUID).to.equal(study);
      await record.waitFor(1);
      expect(record.received[0].messageType).to.match(/^ORU\^R01/);
      expect(record.received[0].text).to.contain('|MOF7007|').and.to.contain('DOE^J1').and.to.contain(`|${study}|`);

      // The example's test order (its inject node's payload) through its "imaging order" node: on XRAY1's worklist.
      const inject = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'examples', '07-imaging-worklist-mpps.json'), 'utf8')).find((n: { id: string }) => n.id === 'ex07-try-order');
      helper.getNode('ex07-imaging-order').receive({ payload: JSON.parse(inject.payload) });
      const answer = await findscu(dicomPort, 'XRAY1');
      expect(answer.out).to.not.contain('ESSAI-1'); // the query asks for 2000-07-01; the test order has no date: asked without one below
      const dump = join(work.dir, 'xray.dump');
      writeFileSync(dump, ['(0008,0050) SH []', '(0010,0010) PN []', '(0040,0100) SQ (Sequence with undefined length)', '(fffe,e000) na (Item with undefined length)', '(0040,0001) AE [XRAY1]', '(fffe,e00d) na', '(fffe,e0dd) na', ''].join('\n'));
      await runTool('dump2dcm', [dump, `${dump}.dcm`]);
      const run2 = await runTool('findscu', ['-W', '-v', '-aet', 'XRAY1', '-aec', 'PASSERELLE', '127.0.0.1', String(dicomPort), `${dump}.dcm`]);
      expect(run2.stdout + run2.stderr).to.contain('ESSAI-1').and.to.contain('LEFÈVRE^Noël');
    } finally {
      delete process.env.EHR_MLLP;
      await record.stop();
    }
  });
});
