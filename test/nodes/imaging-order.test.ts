/**
 * passerelle-imaging-order: orders from a wire (JSON typed by a technician, the record's ORM/OMI
 * as text) reach the worklist that dcmtk's findscu -W reads from a DICOM in node; a cancellation
 * takes one off; what is not an order fails the message (done(err)), journaled as rejected.
 */
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readiness } from '../../adapters/common/readiness';
import { Store } from '../../adapters/journal';
import { runTool } from '../support/dcmtk';
import { waitUntil } from '../support/hub-process';
import { freePort, tempDir } from '../support/net';
import { sharedFixture } from '../support/shared';
import { busNode, helper, startHarness, statusesOf, type Harness } from './harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dicomInNode = require('../../nodes/dicom-in/dicom-in.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const imagingOrderNode = require('../../nodes/imaging-order/imaging-order.js');

describe('passerelle-imaging-order node', function () {
  this.timeout(60_000);
  let harness: Harness;
  let work: { dir: string; remove: () => void };

  before(async () => { harness = await startHarness(); });
  after(async () => { await harness.stop(); });
  beforeEach(() => { work = tempDir('passerelle-imaging-order-'); });
  afterEach(async () => {
    await helper.unload();
    work.remove();
  });

  async function load() {
    const port = await freePort();
    await helper.load([busNode, dicomInNode, imagingOrderNode], [
      { id: 'order', type: 'passerelle-imaging-order', wires: [['out']] },
      { id: 'in', type: 'passerelle-dicom-in', aeTitle: 'PASSERELLE', port, worklist: true, mpps: true, wires: [[], []] },
      { id: 'out', type: 'helper' },
    ]);
    await waitUntil(() => !readiness().starting.some((s) => s.includes('passerelle-dicom-in in:')), 10_000, () => 'the DICOM port open');
    const outputs: Array<{ payload: Array<Record<string, any>> }> = [];
    helper.getNode('out').on('input', (msg: { payload: Array<Record<string, any>> }) => outputs.push(msg));
    return { port, outputs };
  }

  /** Sends a message to the node; resolves with the error done() was given, if any. */
  function send(payload: unknown): Promise<Error | undefined> {
    const node = helper.getNode('order');
    return new Promise((resolve) => {
      const onDone = (call: { args: unknown[] }) => { node.off('call:error', onDone); resolve(call.args[0] as Error); };
      node.on('call:error', onDone);
      node.receive({ payload });
      // A message that succeeds calls no error: the output (or its absence) says it.
      setImmediate(() => { node.off('call:error', onDone); resolve(undefined); });
    });
  }

  async function worklist(port: number, calling: string, modality = ''): Promise<string> {
    const dump = join(work.dir, `${calling}-${Date.now()}.dump`);
    writeFileSync(dump, ['(0008,0005) CS [ISO_IR 192]', '(0008,0050) SH []', '(0010,0010) PN []', '(0010,0020) LO []', '(0020,000d) UI []', '(0040,0100) SQ (Sequence with undefined length)',
      '(fffe,e000) na (Item with undefined length)', `(0040,0001) AE [${calling}]`, `(0008,0060) CS [${modality}]`, '(0040,0002) DA []', '(0040,0003) TM []', '(fffe,e00d) na', '(fffe,e0dd) na', ''].join('\n'));
    await runTool('dump2dcm', [dump, `${dump}.dcm`]);
    const run = await runTool('findscu', ['-W', '-v', '-aet', calling, '-aec', 'PASSERELLE', '127.0.0.1', String(port), `${dump}.dcm`]);
    expect(run.code, run.stderr).to.equal(0);
    return run.stdout + run.stderr;
  }

  it('a JSON order typed by a technician is on the worklist of its station, then cancelled', async () => {
    const { port, outputs } = await load();
    const order = { accessionNumber: 'ESSAI-1', patient: { id: 'IPP-TEST', family: 'LEFÈVRE', given: 'Noël', sex: 'F', birthDate: '1961-03-14' }, modality: 'cr', stations: 'XRAY1', start: '2026-11-23T08:30', procedure: { code: 'RXTHORAX', display: 'Thorax face', system: 'L' } };
    expect(await send(order)).to.equal(undefined);
    expect(outputs).to.have.length(1);
    const [step] = outputs[0].payload;
    expect(step).to.deep.include({ accessionNumber: 'ESSAI-1', cancelled: false });
    expect(step.step).to.deep.include({ modality: 'CR', stationAeTitles: ['XRAY1'], start: { date: '20261123', time: '083000' } });
    expect(step.studyInstanceUid).to.match(/^2\.25\.\d+$/);
    const answer = await worklist(port, 'XRAY1');
    expect(answer).to.contain('LEFÈVRE^Noël').and.to.contain('ESSAI-1').and.to.contain(step.studyInstanceUid).and.to.contain('[20261123]').and.to.contain('[083000]');
    expect(await worklist(port, 'ECHO1')).to.not.contain('ESSAI-1');
    expect(statusesOf(helper.getNode('order')).at(-1)).to.deep.include({ fill: 'green', text: 'passerelle-imaging-order.status.scheduled' });

    expect(await send({ accessionNumber: 'ESSAI-1', cancelled: true })).to.equal(undefined);
    expect(await worklist(port, 'XRAY1')).to.not.contain('ESSAI-1');
  });

  it('the record\'s OMI^O23 and ORM^O01 as text or bytes; what is not an order fails the message, journaled as rejected', async () => {
    const { port, outputs } = await load();
    expect(await send(readFileSync(sharedFixture('hl7', 'omi-o23_imaging-order_declared-8859-1_contains-utf8.hl7')))).to.equal(undefined);
    expect(await send(readFileSync(sharedFixture('hl7', 'orm-o01_radiology-order_mesa.hl7')).toString('latin1'))).to.equal(undefined);
    expect(outputs.map((o) => o.payload.map((s) => s.accessionNumber))).to.deep.equal([['AccessionNumber'], ['MOF5026']]);
    expect(await worklist(port, 'ScheduledStat*', 'CT')).to.contain('Smith^Lucy^Mark');

    for (const [payload, pattern] of [
      [{ accessionNumber: 'X', patient: { id: 'P', family: 'F' }, modality: 'CT', start: 'demain' }, /start: expected YYYY-MM-DD/],
      [{ accessionNumber: 'X', patient: { id: 'P' }, modality: 'CT' }, /patient\.family: expected a value/],
      [{ accessionNumber: 'X', patient: { id: 'P', family: 'F' }, modality: 'CT', stations: ['UN TITRE AE BIEN TROP LONG'] }, /stations: expected AE titles/],
      [readFileSync(sharedFixture('hl7', 'adt-a01_utf8-umlauts.hl7')), /ADT\^A01 carries no imaging order/],
    ] as const) {
      const err = await send(payload);
      expect(err, String(pattern)).to.be.instanceOf(Error);
      // The helper loads no message catalogue: the reason is in the journal (below), the key here.
      expect(err!.message).to.equal('passerelle-imaging-order.errors.refused');
    }
    expect(outputs).to.have.length(2);
    const store = Store.open({ dir: join(harness.dataDir, 'journal') });
    try {
      const rejected = store.listInbound({ channel: 'order:order', limit: 10 }).filter((e) => e.status === 'rejected').map((e) => e.error ?? '');
      expect(rejected).to.have.length(4);
      expect(rejected.some((e) => /start: expected YYYY-MM-DD/.test(e))).to.equal(true);
      expect(rejected.some((e) => /ADT\^A01 carries no imaging order/.test(e))).to.equal(true);
    } finally {
      store.close();
    }
  });
});
