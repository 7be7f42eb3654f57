/**
 * The Storage SCP with real modalities: dcmtk's echoscu and storescu send the three real
 * fixtures and objects written here; each is on disk as a valid Part 10 file (dcmdump reads it)
 * with the pixel data byte for byte, its header decoded (accents in Latin-1 and UTF-8), journaled
 * before Success. Unknown AE titles, refused classes, cut datasets and a dropped association are
 * refused clearly and kept aside, never passed on.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { StorageScp, StoreScu, type RejectedObject, type StoredObject, type StorageScpOptions } from '../../../adapters/dicom';
import { makeCertificate } from '../../support/certificate';
import { dcmdump, echoscu, runTool, storescu } from '../../support/dcmtk';
import { freePort, tempDir } from '../../support/net';
import { sharedFixture } from '../../support/shared';
import { newUid, writeObject } from './objects';
import { pixelDataOfFile } from './pixels';

const FIXTURES = ['cr_agfa_cspine_16x16.dcm', 'ot_iso-ir-100_german-patient-name.dcm', 'us_acuson_8frame_jpeg-baseline.dcm'];
const SC = '1.2.840.10008.5.1.4.1.1.7';
const US_MULTIFRAME = '1.2.840.10008.5.1.4.1.1.3.1';
const MR = '1.2.840.10008.5.1.4.1.1.4';

describe('DICOM Storage SCP (adapter) with dcmtk', function () {
  this.timeout(60_000);
  let work: { dir: string; remove: () => void };
  let scp: StorageScp | undefined;
  let stored: StoredObject[];
  let rejected: RejectedObject[];

  beforeEach(() => {
    work = tempDir('passerelle-scp-');
    stored = [];
    rejected = [];
  });
  afterEach(async () => {
    await scp?.close();
    scp = undefined;
    work.remove();
  });

  async function start(options: Partial<StorageScpOptions> = {}): Promise<number> {
    const port = await freePort();
    scp = new StorageScp({
      aeTitle: 'PASSERELLE', host: '127.0.0.1', port, dir: join(work.dir, 'store'),
      onStored: (object) => { stored.push(object); },
      onRejected: (object) => { rejected.push(object); },
      ...options,
    });
    await scp.listen();
    return port;
  }

  it('answers C-ECHO and stores the three real fixtures as valid Part 10 files, pixel data unchanged', async () => {
    const port = await start();
    const echoes: unknown[] = [];
    scp!.on('echo', (e) => echoes.push(e));
    expect((await echoscu(port)).code).to.equal(0);
    expect(echoes).to.have.length(1);
    const files = FIXTURES.map((name) => sharedFixture('dicom', name));
    const run = await storescu(port, files.slice(0, 2));
    expect(run.code, run.stderr).to.equal(0);
    // -xy: propose JPEG baseline, as an ultrasound machine set up to send it does.
    const loop = await storescu(port, files.slice(2), { extra: ['-xy'] });
    expect(loop.code, loop.stderr).to.equal(0);
    expect(stored).to.have.length(3);
    for (const [i, object] of stored.entries()) {
      expect(object.callingAeTitle).to.equal('MODALITY');
      expect(object.path.startsWith(join(work.dir, 'store'))).to.equal(true);
      expect(object.path).to.match(new RegExp(`/${object.header.values.SOPInstanceUID!.replace(/\./g, '\\.')}\\.dcm$`));
      expect(statSync(object.path).size).to.equal(object.size);
      expect(readFileSync(object.path).toString('latin1', 128, 132)).to.equal('DICM');
      const dump = dcmdump(object.path);
      expect(dump).to.contain(`(0002,0010) UI =`);
      expect(dump).to.contain(`(0002,0016) AE [MODALITY]`);
      expect(pixelDataOfFile(object.path).equals(pixelDataOfFile(files[i]))).to.equal(true);
    }
    const [cr, german, us] = stored.map((s) => s.header);
    expect(cr.values.Modality).to.equal('CR');
    expect(cr.transferSyntaxUid).to.equal('1.2.840.10008.1.2.1');
    expect(german.values.PatientName).to.equal('Äneas^Rüdiger');
    expect(us.transferSyntaxUid).to.equal('1.2.840.10008.1.2.4.50');
    expect(us.values.NumberOfFrames).to.equal('8');
    expect(us.values.Modality).to.equal('US');
    // Nothing left half-written beside the files.
    const day = readdirSync(join(work.dir, 'store')).find((d) => d !== 'rejected')!;
    expect(readdirSync(join(work.dir, 'store', day)).filter((f) => f.endsWith('.part'))).to.deep.equal([]);
  });

  it('decodes French names in ISO_IR 100 and ISO_IR 192 objects', async () => {
    const port = await start();
    const latin1 = await writeObject(join(work.dir, 'latin1.dcm'), { sopClassUid: SC, characterSet: 'ISO_IR 100', patientName: 'NOËL^Hélène^Françoise', studyDescription: 'Échographie', pixels: { rows: 8, columns: 8 } });
    const utf8 = await writeObject(join(work.dir, 'utf8.dcm'), { sopClassUid: SC, characterSet: 'ISO_IR 192', patientName: 'LEFÈVRE^Noël', studyDescription: 'Radiographie du thorax', pixels: { rows: 8, columns: 8 } });
    const run = await storescu(port, [latin1.path, utf8.path]);
    expect(run.code, run.stderr).to.equal(0);
    expect(stored.map((s) => s.header.values.PatientName)).to.deep.equal(['NOËL^Hélène^Françoise', 'LEFÈVRE^Noël']);
    expect(stored.map((s) => s.header.values.StudyDescription)).to.deep.equal(['Échographie', 'Radiographie du thorax']);
    expect(stored.map((s) => s.header.characterSet)).to.deep.equal(['ISO_IR 100', 'ISO_IR 192']);
  });

  it('refuses an unknown calling AE title at association (storescu -aet WRONG), and a wrong called AE title', async () => {
    const port = await start({ callingAeTitles: ['XRAY', 'ECHO1'] });
    const associations: Array<{ accepted: boolean; reason?: string }> = [];
    scp!.on('association', (a) => associations.push(a));
    const file = sharedFixture('dicom', FIXTURES[0]);
    const wrong = await storescu(port, [file], { calling: 'WRONG' });
    expect(wrong.code).to.not.equal(0);
    expect(wrong.stderr + wrong.stdout).to.match(/Calling AE Title Not Recognized/i);
    const echo = await echoscu(port, { calling: 'WRONG' });
    expect(echo.code).to.not.equal(0);
    const called = await storescu(port, [file], { calling: 'XRAY', called: 'OTHER' });
    expect(called.stderr + called.stdout).to.match(/Called AE Title Not Recognized/i);
    expect(associations.map((a) => a.accepted)).to.deep.equal([false, false, false]);
    expect(associations[0].reason).to.contain('WRONG');
    expect(stored).to.deep.equal([]);
    // The modalities it knows are unaffected.
    const ok = await storescu(port, [file], { calling: 'XRAY' });
    expect(ok.code, ok.stderr).to.equal(0);
    expect(stored).to.have.length(1);
  });

  it('refuses in negotiation a class it does not store (MR) and keeps the others of the same association', async () => {
    const port = await start();
    const mr = await writeObject(join(work.dir, 'mr.dcm'), { sopClassUid: MR, modality: 'MR', pixels: { rows: 8, columns: 8 } });
    const sc = await writeObject(join(work.dir, 'sc.dcm'), { sopClassUid: SC, pixels: { rows: 8, columns: 8 } });
    const run = await storescu(port, [mr.path, sc.path], { extra: ['-nh'] });
    expect(run.stderr + run.stdout).to.match(/No presentation context for: \(MR\)/);
    expect(stored.map((s) => s.header.values.SOPInstanceUID)).to.deep.equal([sc.sopInstanceUid]);
  });

  it('refuses in negotiation a transfer syntax it does not take (HEVC), other objects unaffected', async () => {
    const port = await start();
    const hevc = await writeObject(join(work.dir, 'hevc.dcm'), { sopClassUid: US_MULTIFRAME, modality: 'US', encapsulated: { transferSyntaxUid: '1.2.840.10008.1.2.4.107', fragment: Buffer.alloc(64, 7) } });
    const sc = await writeObject(join(work.dir, 'sc.dcm'), { sopClassUid: SC, pixels: { rows: 8, columns: 8 } });
    const run = await storescu(port, [hevc.path], { extra: ['-x4'] });
    expect(run.code).to.not.equal(0);
    expect(run.stderr + run.stdout).to.match(/No Acceptable Presentation Contexts/i);
    expect((await storescu(port, [sc.path])).code).to.equal(0);
    expect(stored.map((s) => s.header.values.SOPInstanceUID)).to.deep.equal([sc.sopInstanceUid]);
  });

  it('stores a 55 MB multi-frame loop whole, its pixel data as sent', async () => {
    const port = await start();
    const loop = await writeObject(join(work.dir, 'loop.dcm'), { sopClassUid: US_MULTIFRAME, modality: 'US', pixels: { rows: 480, columns: 640, frames: 60, samplesPerPixel: 3 } });
    const run = await storescu(port, [loop.path]);
    expect(run.code, run.stderr).to.equal(0);
    expect(stored).to.have.length(1);
    const [object] = stored;
    expect(object.header.values.NumberOfFrames).to.equal('60');
    // Same dataset bytes as sent: storescu sent explicit LE, the hub wrote its own meta header in front.
    const sent = readFileSync(loop.path);
    const kept = readFileSync(object.path);
    expect(kept.subarray(kept.length - loop.pixelLength!).equals(sent.subarray(loop.pixelOffset!))).to.equal(true);
  });

  it('journals nothing as stored when journaling fails, and tells the modality', async () => {
    const port = await start({ onStored: () => { throw new Error('disk full'); } });
    const sc = await writeObject(join(work.dir, 'sc.dcm'), { sopClassUid: SC, pixels: { rows: 8, columns: 8 } });
    const run = await storescu(port, [sc.path], { extra: ['-v'] });
    expect(run.code).to.not.equal(0);
    expect(run.stderr + run.stdout).to.match(/Refused: OutOfResources/);
    const day = readdirSync(join(work.dir, 'store')).find((d) => d !== 'rejected');
    expect(day ? readdirSync(join(work.dir, 'store', day)) : []).to.deep.equal([]);
  });

  it('gives a new name to an object received twice, never overwriting the first', async () => {
    const port = await start();
    const uid = newUid();
    const sc = await writeObject(join(work.dir, 'sc.dcm'), { sopClassUid: SC, sopInstanceUid: uid, pixels: { rows: 8, columns: 8 } });
    expect((await storescu(port, [sc.path, sc.path])).code).to.equal(0);
    expect(stored.map((s) => basename(s.path))).to.deep.equal([`${uid}.dcm`, `${uid}-2.dcm`]);
    expect(existsSync(stored[0].path) && existsSync(stored[1].path)).to.equal(true);
  });

  it('over TLS: storescu +tla trusting the hub\'s certificate, and the hub\'s own SCU; plain TCP is refused', async () => {
    const cert = makeCertificate(work.dir);
    const port = await start({ tls: { key: cert.key, cert: cert.cert } });
    const file = sharedFixture('dicom', FIXTURES[0]);
    const plain = await storescu(port, [file]);
    expect(plain.code).to.not.equal(0);
    const run = await storescu(port, [file], { extra: ['+tla', '+cf', cert.certFile] });
    expect(run.code, run.stderr).to.equal(0);
    const scu = new StoreScu({ pacs: { aeTitle: 'PASSERELLE', host: '127.0.0.1', port }, callingAeTitle: 'XRAY', tls: { ca: cert.cert, servername: 'localhost' } });
    const ack = await scu.send(Buffer.from(JSON.stringify({ path: file })), 'C-tls', 10_000);
    expect(ack.code).to.equal('AA');
    expect(stored.map((s) => s.callingAeTitle)).to.deep.equal(['MODALITY', 'XRAY']);
  });

  it('stores RLE, JPEG lossless and JPEG-LS objects made by dcmtk, and a deflated one, pixel data as sent', async () => {
    const port = await start();
    const source = await writeObject(join(work.dir, 'sc.dcm'), { sopClassUid: SC, characterSet: 'ISO_IR 100', patientName: 'NOËL^Hélène', pixels: { rows: 64, columns: 64 } });
    const made: Array<[tool: string, args: string[], propose: string, syntax: string]> = [
      ['dcmcrle', [], '-xr', '1.2.840.10008.1.2.5'],
      ['dcmcjpeg', ['+e1'], '-xs', '1.2.840.10008.1.2.4.70'],
      ['dcmcjpls', [], '-xt', '1.2.840.10008.1.2.4.80'],
    ];
    for (const [tool, args, propose, syntax] of made) {
      const path = join(work.dir, `${tool}.dcm`);
      expect((await runTool(tool, [...args, source.path, path])).code, tool).to.equal(0);
      const run = await storescu(port, [path], { extra: [propose] });
      expect(run.code, run.stderr).to.equal(0);
      const object = stored[stored.length - 1];
      expect(object.header.transferSyntaxUid).to.equal(syntax);
      expect(pixelDataOfFile(object.path).equals(pixelDataOfFile(path)), tool).to.equal(true);
    }
    // Deflated: storescu compresses the whole dataset on the wire; the header is read by inflating its start.
    const deflated = await storescu(port, [source.path], { extra: ['-xd'] });
    expect(deflated.code, deflated.stderr).to.equal(0);
    const object = stored[stored.length - 1];
    expect(object.header.transferSyntaxUid).to.equal('1.2.840.10008.1.2.1.99');
    expect(object.header.values.PatientName).to.equal('NOËL^Hélène');
    expect(pixelDataOfFile(object.path).equals(pixelDataOfFile(source.path))).to.equal(true);
  });

  it('serves several modalities at once; one refused in the middle does not disturb the others', async () => {
    const port = await start({ callingAeTitles: ['XRAY1', 'ECHO1'] });
    const objects = await Promise.all([0, 1, 2, 3].map((i) => writeObject(join(work.dir, `o${i}.dcm`), { sopClassUid: SC, pixels: { rows: 256, columns: 256 } })));
    const runs = await Promise.all([
      storescu(port, [objects[0].path, objects[1].path], { calling: 'XRAY1' }),
      storescu(port, [objects[2].path], { calling: 'WRONG' }),
      storescu(port, [objects[3].path], { calling: 'ECHO1' }),
    ]);
    expect(runs.map((r) => r.code === 0)).to.deep.equal([true, false, true]);
    expect(stored.map((s) => s.header.values.SOPInstanceUID).sort()).to.deep.equal([objects[0], objects[1], objects[3]].map((o) => o.sopInstanceUid).sort());
  });

  it('stores an encapsulated PDF of 300 kB (no pixel data: the header is read past the first 64 kB)', async () => {
    const port = await start();
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n', 'latin1'), Buffer.alloc(300 * 1024, 0x20), Buffer.from('\n%%EOF\n', 'latin1')]);
    const object = await writeObject(join(work.dir, 'report.dcm'), {
      sopClassUid: '1.2.840.10008.5.1.4.1.1.104.1', modality: 'DOC', characterSet: 'ISO_IR 192', patientName: 'MÜLLER^Zoé',
      extra: [[0x00420010, 'ST', 'Compte rendu'], [0x00420011, 'OB', pdf], [0x00420012, 'LO', 'application/pdf']],
    });
    const run = await storescu(port, [object.path]);
    expect(run.code, run.stderr).to.equal(0);
    const [kept] = stored;
    expect(kept.header.values).to.include({ Modality: 'DOC', PatientName: 'MÜLLER^Zoé', SOPInstanceUID: object.sopInstanceUid });
    expect(readFileSync(kept.path).includes(pdf)).to.equal(true);
  });

  it('a storage that cannot be written (here a file where its directory should be): Out of Resources, nothing kept, the next modality still heard', async () => {
    const { writeFileSync } = await import('node:fs');
    const blocked = join(work.dir, 'blocked');
    writeFileSync(blocked, 'not a directory');
    const port = await start({ dir: blocked });
    const sc = await writeObject(join(work.dir, 'sc.dcm'), { sopClassUid: SC, pixels: { rows: 512, columns: 512 } });
    const run = await storescu(port, [sc.path], { extra: ['-v'] });
    expect(run.code).to.not.equal(0);
    expect(run.stderr + run.stdout).to.match(/Refused: OutOfResources/);
    expect(stored).to.deep.equal([]);
    expect(rejected).to.have.length(1);
    expect(rejected[0].reason).to.match(/^cannot write the object to disk: ENOTDIR/);
    expect(rejected[0].path).to.equal(undefined);
    expect((await echoscu(port)).code).to.equal(0);
  });
});
