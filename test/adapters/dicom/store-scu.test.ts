/**
 * The C-STORE SCU that feeds the PACS, against real receivers: Orthanc (the instance downloaded
 * back over its REST API has the same SOP instance UID and pixel data, byte for byte) and dcmtk's
 * storescp; a PACS that refuses the hub or is down; and, sent raw to the hub's own SCP, a dataset
 * cut short and an association dropped mid-object, which the SCP refuses and keeps aside.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { DicomConnectionError, StorageScp, StoreScu, type RejectedObject, type StoredObject } from '../../../adapters/dicom';
import { associateRq, commandSet, pDataTf, PDU, PduReader } from '../../../adapters/dicom/pdu';
import { readMetaHeader } from '../../../adapters/dicom/part10';
import { startStorescp, type RunningStorescp } from '../../support/dcmtk';
import { freePort, tempDir } from '../../support/net';
import { startOrthanc, type RunningOrthanc } from '../../support/orthanc';
import { sharedFixture } from '../../support/shared';
import { writeObject } from './objects';
import { pixelDataOf, pixelDataOfFile } from './pixels';

const FIXTURES = ['cr_agfa_cspine_16x16.dcm', 'ot_iso-ir-100_german-patient-name.dcm', 'us_acuson_8frame_jpeg-baseline.dcm'];
const US_MULTIFRAME = '1.2.840.10008.5.1.4.1.1.3.1';
const SC = '1.2.840.10008.5.1.4.1.1.7';

function forward(path: string, sopInstanceUid = 'unused'): Buffer {
  return Buffer.from(JSON.stringify({ path, sopInstanceUid }));
}

function sopInstanceUidOf(path: string): string {
  return readMetaHeader(readFileSync(path).subarray(0, 4096)).sopInstanceUid;
}

describe('DICOM C-STORE SCU (adapter) with Orthanc and dcmtk', function () {
  this.timeout(120_000);
  let work: { dir: string; remove: () => void };
  before(() => { work = tempDir('passerelle-scu-'); });
  after(() => work.remove());

  describe('to a real Orthanc', () => {
    let orthanc: RunningOrthanc;
    before(async () => { orthanc = await startOrthanc(); });
    after(async () => { await orthanc.stop(); });

    it('sends the three fixtures: same SOP instance UID, identical pixel data in Orthanc', async () => {
      const scu = new StoreScu({ pacs: { aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort }, callingAeTitle: 'PASSERELLE' });
      for (const name of FIXTURES) {
        const path = sharedFixture('dicom', name);
        const ack = await scu.send(forward(path), `C-${name}`, 30_000);
        expect(ack, name).to.include({ code: 'AA', controlId: `C-${name}` });
        expect(ack.text).to.match(/^C-STORE status 0x0000/);
        const uid = sopInstanceUidOf(path);
        const inOrthanc = await orthanc.fileOf(uid);
        expect(inOrthanc, `${name} in Orthanc`).to.not.equal(undefined);
        expect(readMetaHeader(inOrthanc!.subarray(0, 4096)).sopInstanceUid).to.equal(uid);
        expect(pixelDataOf(inOrthanc!).equals(pixelDataOfFile(path)), `${name} pixel data`).to.equal(true);
      }
    });

    it('a PACS that does not know the called AE title refuses the association: AR with the reason', async () => {
      const scu = new StoreScu({ pacs: { aeTitle: 'NOT-ORTHANC', host: '127.0.0.1', port: orthanc.dicomPort }, callingAeTitle: 'PASSERELLE' });
      const ack = await scu.send(forward(sharedFixture('dicom', FIXTURES[0])), 'C-1', 30_000);
      expect(ack.code).to.equal('AR');
      expect(ack.text).to.equal('association rejected: called AE title not recognized');
    });
  });

  describe('to dcmtk storescp', () => {
    let storescp: RunningStorescp;
    before(async () => { storescp = await startStorescp(join(work.dir, 'storescp')); });
    after(async () => { await storescp.stop(); });

    it('sends a 55 MB multi-frame loop from disk; storescp has the same bytes', async () => {
      const loop = await writeObject(join(work.dir, 'loop.dcm'), { sopClassUid: US_MULTIFRAME, modality: 'US', pixels: { rows: 480, columns: 640, frames: 60, samplesPerPixel: 3 } });
      const scu = new StoreScu({ pacs: { aeTitle: storescp.aeTitle, host: '127.0.0.1', port: storescp.port }, callingAeTitle: 'PASSERELLE' });
      const ack = await scu.send(forward(loop.path), 'C-loop', 60_000);
      expect(ack.code).to.equal('AA');
      const received = join(storescp.dir, readdirSync(storescp.dir).find((f) => f.includes(loop.sopInstanceUid))!);
      const kept = readFileSync(received);
      const sent = readFileSync(loop.path);
      expect(kept.subarray(kept.length - loop.pixelLength!).equals(sent.subarray(loop.pixelOffset!))).to.equal(true);
    });

    it('a PACS that is down: a connection error that says nothing left', async () => {
      const port = await freePort();
      const scu = new StoreScu({ pacs: { aeTitle: 'DOWN', host: '127.0.0.1', port }, callingAeTitle: 'PASSERELLE' });
      try {
        await scu.send(forward(sharedFixture('dicom', FIXTURES[0])), 'C-down', 5_000);
        expect.fail('should have failed');
      } catch (err) {
        expect(err).to.be.instanceOf(DicomConnectionError);
        expect((err as DicomConnectionError).sent).to.equal(false);
        expect((err as Error).message).to.contain('ECONNREFUSED');
      }
    });
  });

  describe('bad objects to the hub\'s own SCP', () => {
    let scp: StorageScp;
    let port: number;
    const stored: StoredObject[] = [];
    const rejected: RejectedObject[] = [];
    before(async () => {
      port = await freePort();
      scp = new StorageScp({ aeTitle: 'PASSERELLE', host: '127.0.0.1', port, dir: join(work.dir, 'hub'), onStored: (o) => { stored.push(o); }, onRejected: (o) => { rejected.push(o); } });
      await scp.listen();
    });
    after(async () => { await scp.close(); });
    beforeEach(() => { stored.length = 0; rejected.length = 0; });

    it('a dataset cut short is refused (0xC000), kept under rejected/, never passed on', async () => {
      const cut = await writeObject(join(work.dir, 'cut.dcm'), { sopClassUid: US_MULTIFRAME, modality: 'US', encapsulated: { transferSyntaxUid: '1.2.840.10008.1.2.4.50', fragment: Buffer.alloc(4000, 9), cut: true } });
      const scu = new StoreScu({ pacs: { aeTitle: 'PASSERELLE', host: '127.0.0.1', port }, callingAeTitle: 'XRAY' });
      const ack = await scu.send(forward(cut.path), 'C-cut', 10_000);
      expect(ack.code).to.equal('AR');
      expect(ack.text).to.match(/^C-STORE status 0xC000: the encapsulated pixel data is cut short/);
      expect(stored).to.deep.equal([]);
      expect(rejected).to.have.length(1);
      expect(rejected[0]).to.include({ callingAeTitle: 'XRAY', sopInstanceUid: cut.sopInstanceUid });
      expect(rejected[0].reason).to.contain('cut short');
      expect(rejected[0].path).to.match(/\/rejected\/.+\.dcm$/);
      expect(statSync(rejected[0].path!).size).to.equal(rejected[0].size);
    });

    it('native pixel data shorter than its length says is refused too', async () => {
      const whole = await writeObject(join(work.dir, 'whole.dcm'), { sopClassUid: SC, pixels: { rows: 64, columns: 64 } });
      const bytes = readFileSync(whole.path);
      const { writeFileSync } = await import('node:fs');
      const cutPath = join(work.dir, 'short.dcm');
      writeFileSync(cutPath, bytes.subarray(0, bytes.length - 1000));
      const ack = await new StoreScu({ pacs: { aeTitle: 'PASSERELLE', host: '127.0.0.1', port }, callingAeTitle: 'XRAY' }).send(forward(cutPath), 'C-short', 10_000);
      expect(ack.text).to.match(/0xC000: the pixel data is cut short/);
      expect(stored).to.deep.equal([]);
      expect(rejected).to.have.length(1);
    });

    it('an association dropped mid-object: what came is kept aside, journaled as refused, nothing stored', async () => {
      const object = await writeObject(join(work.dir, 'dropped.dcm'), { sopClassUid: SC, pixels: { rows: 256, columns: 256 } });
      const bytes = readFileSync(object.path);
      const { datasetOffset } = readMetaHeader(bytes.subarray(0, 4096));
      const socket = connect({ host: '127.0.0.1', port });
      const reader = new PduReader();
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.once('connect', () => socket.write(associateRq('PASSERELLE', 'XRAY', [{ id: 1, abstractSyntax: SC, transferSyntaxes: ['1.2.840.10008.1.2.1'] }])));
        socket.on('data', (chunk: Buffer) => {
          for (const pdu of reader.push(chunk)) {
            if (pdu.type !== PDU.ASSOCIATE_AC) continue;
            socket.write(Buffer.concat(pDataTf(1, true, true, commandSet([[0x0002, 'UI', SC], [0x0100, 'US', 1], [0x0110, 'US', 1], [0x0700, 'US', 0], [0x0800, 'US', 0], [0x1000, 'UI', object.sopInstanceUid]]))));
            socket.write(Buffer.concat(pDataTf(1, false, false, bytes.subarray(datasetOffset, datasetOffset + 20_000))), () => resolve());
          }
        });
      });
      await new Promise((r) => setTimeout(r, 100)); // let the 20 kB reach the hub before the line drops
      socket.destroy();
      const { waitUntil } = await import('../../support/hub-process');
      await waitUntil(() => rejected.length === 1, 5000, () => 'the refusal');
      expect(rejected[0].reason).to.match(/^the connection closed after \d+ bytes: the object is incomplete$/);
      expect(rejected[0].sopInstanceUid).to.equal(object.sopInstanceUid);
      expect(stored).to.deep.equal([]);
    });
  });
});
