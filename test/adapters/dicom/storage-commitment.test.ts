/**
 * Storage commitment with a real Orthanc (Debian's orthanc, 1.10: push model SCP, reports sent
 * asynchronously on a new association to the requester, as most PACSs do). The hub's queue
 * forwards objects by C-STORE, its committer asks Orthanc to commit them, and Orthanc's report
 * arrives on the hub's own Storage SCP. An object Orthanc no longer has is reported failed: it is
 * stored again through its own queue entry (same control id) and then committed. Reports that do
 * not read, or name no transaction of the hub, change nothing.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  applyCommitmentReport, readCommitmentReport, CommitmentReportError, COMMITMENT_REPORT_CONTENT_TYPE, StorageCommitter, StorageScp, StoreScu,
  type CommitmentEvent, type ForwardRequest,
} from '../../../adapters/dicom';
import { readMetaHeader } from '../../../adapters/dicom/part10';
import { DeliveryWorker, type DeliveryEvent } from '../../../adapters/delivery';
import { registerDestination } from '../../../adapters/delivery/registry';
import { Store } from '../../../adapters/journal';
import { waitUntil } from '../../support/hub-process';
import { freePort, tempDir } from '../../support/net';
import { startOrthanc, type RunningOrthanc } from '../../support/orthanc';
import { sharedFixture } from '../../support/shared';

const FIXTURES = ['cr_agfa_cspine_16x16.dcm', 'ot_iso-ir-100_german-patient-name.dcm'];
const HUB_AET = 'PASSERELLE';

describe('DICOM storage commitment (adapter) with a real Orthanc', function () {
  this.timeout(120_000);
  let work: { dir: string; remove: () => void };
  let orthanc: RunningOrthanc;
  let scp: StorageScp;
  let store: Store;
  const reportsAtScp: Array<{ status: number; callingAeTitle: string }> = [];

  before(async () => {
    work = tempDir('passerelle-commitment-');
    store = Store.open({ dir: join(work.dir, 'journal') });
    const port = await freePort();
    scp = new StorageScp({
      aeTitle: HUB_AET,
      host: '127.0.0.1',
      port,
      dir: join(work.dir, 'dicom'),
      onStored: () => undefined,
      onRejected: () => undefined,
      commitmentReport: (eventTypeId, dataset, association) => {
        const { status } = applyCommitmentReport(store, eventTypeId, dataset, { channel: 'dicom:test', peer: association.peer, now: Date.now() });
        reportsAtScp.push({ status, callingAeTitle: association.callingAeTitle });
        return status;
      },
    });
    await scp.listen();
    orthanc = await startOrthanc({ modalities: { hub: { aeTitle: HUB_AET, host: '127.0.0.1', port } } });
  });
  after(async () => {
    await orthanc.stop();
    await scp.close();
    store.close();
    work.remove();
  });

  /** A queue to Orthanc with its worker and committer, the objects of `files` queued on it. */
  async function forwarding(destination: string, files: string[], options: { start: boolean }) {
    const pacs = { aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort };
    const committer = new StorageCommitter({ store, destination, pacs, callingAeTitle: HUB_AET, batchMs: 0, overdueMs: 60_000 });
    const worker = new DeliveryWorker({
      store, destination, transport: new StoreScu({ pacs, callingAeTitle: HUB_AET }), ackTimeoutMs: 30_000,
      backoff: { initialMs: 100, maxMs: 1000, factor: 2 },
      onAccepted: (message, now) => committer.objectAccepted(message, now),
    });
    const unregister = registerDestination(destination, () => worker.kick());
    const deliveries: DeliveryEvent[] = [];
    const commitments: CommitmentEvent[] = [];
    worker.on('delivery', (e: DeliveryEvent) => deliveries.push(e));
    committer.on('commitment', (e: CommitmentEvent) => commitments.push(e));
    const objects = files.map((path) => {
      const meta = readMetaHeader(readFileSync(path).subarray(0, 8192));
      const request: ForwardRequest = { path, sopClassUid: meta.sopClassUid, sopInstanceUid: meta.sopInstanceUid };
      const queued = store.enqueue({ destination, dedupeKey: meta.sopInstanceUid, resultId: `event-${meta.sopInstanceUid}`, contentType: 'application/json', build: () => Buffer.from(JSON.stringify(request)) });
      return { ...request, outboundId: queued.id };
    });
    worker.start();
    if (options.start) committer.start();
    const stop = async () => {
      unregister();
      await committer.stop();
      await worker.stop();
    };
    return { committer, worker, deliveries, commitments, objects, stop };
  }

  it('asks Orthanc to commit what it accepted; its report, on a new association to the hub, marks each object committed', async () => {
    const run = await forwarding('orthanc-a', FIXTURES.map((n) => sharedFixture('dicom', n)), { start: true });
    try {
      await waitUntil(() => run.commitments.filter((e) => e.state === 'committed').length === 2, 60_000, () => `2 committed, got ${JSON.stringify(run.commitments)}`);
      const requested = run.commitments.filter((e) => e.state === 'requested');
      const committed = run.commitments.filter((e) => e.state === 'committed');
      expect(committed.map((e) => e.sopInstanceUid).sort()).to.deep.equal(run.objects.map((o) => o.sopInstanceUid).sort());
      expect(committed.map((e) => e.resultId).sort()).to.deep.equal(run.objects.map((o) => `event-${o.sopInstanceUid}`).sort());
      // Each committed object was named in a request of this hub, and the report came for that transaction.
      for (const e of committed) expect(requested.map((r) => r.transactionUid)).to.include(e.transactionUid);
      for (const o of run.objects) expect(store.commitments().get(o.outboundId)).to.include({ state: 'committed', requests: 1 });
      expect(reportsAtScp.at(-1)).to.deep.equal({ status: 0, callingAeTitle: orthanc.aeTitle });
      expect(store.commitments().depth('orthanc-a')).to.include({ committed: 2, waiting: 0, requested: 0 });
    } finally {
      await run.stop();
    }
  });

  it('an object Orthanc no longer has is reported failed, stored again under the same control id, then committed', async () => {
    const path = sharedFixture('dicom', FIXTURES[0]);
    const run = await forwarding('orthanc-b', [path], { start: false });
    try {
      const [object] = run.objects;
      await waitUntil(() => run.deliveries.some((d) => d.state === 'accepted'), 30_000, () => 'accepted');
      expect(store.commitments().get(object.outboundId)).to.include({ state: 'waiting' });
      expect(await orthanc.deleteInstance(object.sopInstanceUid)).to.equal(true);
      run.committer.start();
      await waitUntil(() => run.commitments.some((e) => e.state === 'committed'), 60_000, () => `committed, got ${JSON.stringify(run.commitments)}`);
      const states = run.commitments.map((e) => e.state);
      expect(states).to.deep.equal(['requested', 'resent', 'requested', 'committed']);
      expect(run.commitments[1].reason).to.equal('0x0112 (no such object instance)');
      const accepted = run.deliveries.filter((d) => d.state === 'accepted');
      expect(accepted).to.have.length(2);
      expect(new Set(accepted.map((d) => d.controlId)).size, 'the same control id both times').to.equal(1);
      expect(await orthanc.fileOf(object.sopInstanceUid)).to.not.equal(undefined);
      expect(store.commitments().get(object.outboundId)).to.include({ state: 'committed', requests: 2 });
    } finally {
      await run.stop();
    }
  });

  it('a report naming no transaction of the hub is answered with a failure and changes nothing', () => {
    const before = store.commitments().depth('orthanc-a');
    const { status, events } = applyCommitmentReport(store, 1, { TransactionUID: '2.25.12345', ReferencedSOPSequence: [{ ReferencedSOPClassUID: '1.2.840.10008.5.1.4.1.1.7', ReferencedSOPInstanceUID: '1.2.3.4' }] }, { channel: 'dicom:test', now: Date.now() });
    expect(status).to.equal(0x0110);
    expect(events).to.deep.equal([]);
    expect(store.commitments().depth('orthanc-a')).to.deep.equal(before);
  });

  it('every report is journaled with its dataset; one that does not read is kept as rejected with the reason', () => {
    expect(() => applyCommitmentReport(store, 2, { TransactionUID: '1.2.3' }, { channel: 'dicom:bad', peer: '127.0.0.1:1', now: Date.now() })).to.throw(CommitmentReportError);
    const [rejected] = store.listInbound({ channel: 'dicom:bad', limit: 5 });
    expect(rejected).to.include({ status: 'rejected', contentType: COMMITMENT_REPORT_CONTENT_TYPE, peer: '127.0.0.1:1' });
    expect(rejected.error).to.match(/without a Failed SOP Sequence/);
    expect(JSON.parse(rejected.raw.toString())).to.deep.equal({ eventTypeId: 2, dataset: { TransactionUID: '1.2.3' } });
    const fromOrthanc = store.listInbound({ channel: 'dicom:test', limit: 50 }).filter((e) => e.status === 'accepted');
    expect(fromOrthanc.length, 'Orthanc\'s reports journaled').to.be.greaterThan(1);
    expect(JSON.parse(fromOrthanc[0].raw.toString()).dataset.TransactionUID).to.match(/^2\.25\./);
  });

  it('3000 random report datasets: a reading whose every UID was in the dataset, or a CommitmentReportError', () => {
    const uid = fc.oneof(fc.constantFrom('1.2.3.4', '2.25.99', ' 1.2.3 '), fc.string({ maxLength: 12 }));
    const item = fc.record({ ReferencedSOPClassUID: fc.option(uid), ReferencedSOPInstanceUID: fc.option(fc.oneof(uid, fc.integer())), FailureReason: fc.option(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.string())) }, { requiredKeys: [] });
    const sequence = fc.oneof(fc.array(item, { maxLength: 4 }), fc.constant(null), fc.string(), fc.integer());
    const dataset = fc.record({ TransactionUID: fc.option(fc.oneof(uid, fc.integer())), ReferencedSOPSequence: sequence, FailedSOPSequence: sequence }, { requiredKeys: [] });
    let read = 0;
    fc.assert(fc.property(fc.option(fc.integer({ min: -1, max: 4 })), dataset, (eventType, data) => {
      try {
        const report = readCommitmentReport(eventType ?? undefined, data as Record<string, unknown>);
        read++;
        const text = JSON.stringify(data);
        for (const u of [report.transactionUid, ...report.committed, ...report.failed.map((f) => f.sopInstanceUid)]) expect(text).to.contain(u);
        for (const f of report.failed) expect(f.reason).to.match(/^(0x[0-9A-F]{4} \(.+\)|failure reason not given)$/);
      } catch (err) {
        expect(err).to.be.instanceOf(CommitmentReportError);
      }
    }), { numRuns: 3000 });
    expect(read, 'some random reports read').to.be.greaterThan(0);
  });

  it('reports that do not read are refused with what is wrong', () => {
    const sop = { ReferencedSOPClassUID: '1.2.3', ReferencedSOPInstanceUID: '1.2.3.4' };
    expect(() => readCommitmentReport(3, { TransactionUID: '1.2' })).to.throw(CommitmentReportError, /event type 3/);
    expect(() => readCommitmentReport(1, { TransactionUID: 'not a uid' })).to.throw(CommitmentReportError, /Transaction UID/);
    expect(() => readCommitmentReport(2, { TransactionUID: '1.2', ReferencedSOPSequence: [sop] })).to.throw(CommitmentReportError, /without a Failed SOP Sequence/);
    expect(() => readCommitmentReport(1, { TransactionUID: '1.2', ReferencedSOPSequence: [{ ReferencedSOPInstanceUID: 'x.y' }] })).to.throw(CommitmentReportError, /item 1/);
    expect(() => readCommitmentReport(1, { TransactionUID: '1.2', ReferencedSOPSequence: 'nope' })).to.throw(CommitmentReportError, /not a sequence/);
    expect(readCommitmentReport(2, { TransactionUID: '1.2', ReferencedSOPSequence: [sop], FailedSOPSequence: [{ ...sop, ReferencedSOPInstanceUID: '1.2.3.5', FailureReason: 0x0122 }] })).to.deep.equal({
      transactionUid: '1.2',
      committed: ['1.2.3.4'],
      failed: [{ sopInstanceUid: '1.2.3.5', reason: '0x0122 (referenced SOP class not supported)' }],
    });
  });
});
