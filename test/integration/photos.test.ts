/**
 * Cart photos through the running hub: the site flow with its "photo in" node, a real Orthanc
 * as PACS_DICOM, the simulated record as EHR_MLLP. A photo published with mosquitto_pub (the
 * documented example companion, then the JPEG made by cjpeg) and one from the cart simulator are
 * found in Orthanc as VL Photographic instances with the right patient, study, region and pixel
 * data; the teleconsultation's study reaches the record as an ORU python3-hl7 reads.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { teleconsultationStudyUid, type PhotoCompanion } from '../../adapters/dicom';
import { nameUid } from '../../adapters/dicom/uids';
import { runCart } from '../../simulators/cart';
import { SimulatedRecord } from '../../simulators/record';
import { fragmentsOf } from '../adapters/dicom/pixels';
import { startHubProcess, waitUntil, type HubProcess } from '../support/hub-process';
import { tempDir } from '../support/net';
import { startOrthanc, type RunningOrthanc } from '../support/orthanc';
import { makeJpeg } from '../support/photos';
import { parseWithPython, pyComponents } from '../support/python-hl7';

const ROOT = resolve(__dirname, '..', '..', '..');
const run = promisify(execFile);

describe('cart photos through the running hub to the PACS and the record', function () {
  this.timeout(120_000);
  let data: ReturnType<typeof tempDir>;
  let record: SimulatedRecord;
  let orthanc: RunningOrthanc;
  let hub: HubProcess;
  const jpeg = makeJpeg({ width: 120, height: 90 });

  before(async () => {
    data = tempDir();
    record = await new SimulatedRecord().start();
    orthanc = await startOrthanc();
    hub = await startHubProcess(join(data.dir, 'hub'), {
      EHR_MLLP: `127.0.0.1:${record.port}`, PACS_DICOM: `${orthanc.aeTitle}@127.0.0.1:${orthanc.dicomPort}`,
      IMAGING_QUIET_SECONDS: '1', PHOTO_FOLDER: join(data.dir, 'photos'),
    });
    await waitUntil(async () => (await fetch(`${hub.url}/passerelle/api/health`)).status === 200, 30_000, () => `flows running:\n${hub.output()}`);
  });

  after(async () => {
    await hub?.stop();
    await orthanc?.stop();
    await record?.stop();
    data?.remove();
  });

  async function inOrthanc(sopInstanceUid: string): Promise<{ tags: Record<string, unknown>; file: Buffer }> {
    let ids: string[] = [];
    await waitUntil(async () => {
      ids = (await (await fetch(`${orthanc.httpUrl}/tools/find`, { method: 'POST', body: JSON.stringify({ Level: 'Instance', Query: { SOPInstanceUID: sopInstanceUid } }) })).json()) as string[];
      return ids.length === 1;
    }, 30_000, () => `${sopInstanceUid} in Orthanc\n${hub.output()}`);
    const tags = (await (await fetch(`${orthanc.httpUrl}/instances/${ids[0]}/simplified-tags`)).json()) as Record<string, unknown>;
    return { tags, file: (await orthanc.fileOf(sopInstanceUid))! };
  }

  /** The SOP instance UID the hub derives from a photo's id. */
  const instanceOf = (id: string) => nameUid(`passerelle:photo:${id}`);

  it('the documented companion and a cjpeg JPEG, published with mosquitto_pub: VL Photographic in Orthanc, the study told to the record', async () => {
    const companion: PhotoCompanion = { ...JSON.parse(readFileSync(join(ROOT, 'docs', 'schema', 'photo.example.json'), 'utf8')), sha256: createHash('sha256').update(jpeg).digest('hex') };
    const companionFile = join(data.dir, 'companion.json');
    const jpegFile = join(data.dir, 'tympan.jpg');
    writeFileSync(companionFile, JSON.stringify(companion));
    writeFileSync(jpegFile, jpeg);
    const topic = 'passerelle/v1/test-site/cart/chariot-tlc-2/photo';
    for (const file of [companionFile, jpegFile]) await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(hub.mqttPort), '-q', '1', '-t', topic, '-f', file]);
    const { tags, file } = await inOrthanc(instanceOf(companion.id));
    const study = teleconsultationStudyUid('test-site', 'TLC-2026-004217');
    expect(tags).to.include({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.77.1.4', Modality: 'XC', PatientName: 'NOËL^Hélène^Françoise', PatientID: '284037512345678', StudyInstanceUID: study, Laterality: 'L', BodyPartExamined: 'EAR' });
    expect((tags.AnatomicRegionSequence as Array<Record<string, unknown>>)[0]).to.include({ CodeValue: '42859004', CodingSchemeDesignator: 'SCT' });
    expect(fragmentsOf(file)[0].subarray(0, jpeg.length).equals(jpeg)).to.equal(true);

    await waitUntil(() => record.received.some((m) => m.text.includes(study)), 30_000, () => `the study's ORU at the record\n${hub.output()}`);
    const oru = parseWithPython(record.received.find((m) => m.text.includes(study))!.bytes);
    expect(pyComponents(oru, 'PID', 3)![0]).to.equal('284037512345678');
    expect(pyComponents(oru, 'PV1', 19)![0]).to.equal('TLC-2026-004217');
  });

  it('the cart simulator\'s teleconsultation: its vitals and its photo, the photo in Orthanc in the teleconsultation\'s study', async () => {
    const jpegFile = join(data.dir, 'naevus.jpg');
    writeFileSync(jpegFile, jpeg);
    const published = await runCart({ mqtt: hub.mqttUrl, site: 'test-site', cart: 'chariot-sim', count: 1, everyMs: 0, fhir: false, photo: jpegFile, photoDevice: 'dermatoscope', region: 'skin-of-back' });
    const companion = published.find((p) => !Buffer.isBuffer(p.payload) && p.topic.endsWith('/photo'))!.payload as unknown as PhotoCompanion;
    const { tags, file } = await inOrthanc(instanceOf(companion.id));
    expect(tags).to.include({ Modality: 'XC', SeriesDescription: 'Dermoscopie (XC)', StudyInstanceUID: teleconsultationStudyUid('test-site', published[0].message.teleconsultation.id), BodyPartExamined: 'BACK' });
    expect(fragmentsOf(file)[0].subarray(0, jpeg.length).equals(jpeg)).to.equal(true);
  });
});
