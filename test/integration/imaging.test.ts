/**
 * Imaging through the RUNNING hub (the site flow, started as `passerelle` is): the record's imaging
 * orders over MLLP put steps on the modality worklist that dcmtk's findscu -W reads; a simulated
 * modality (simulators/modality.ts: dcmtk has no MPPS client) performs an exam — MPPS started,
 * images, MPPS completed — and dcmtk's storescu sends objects in ISO_IR 100 and ISO_IR 192; a real
 * Orthanc is the PACS, SimulatedRecord the record, python3-hl7 reads what the record got.
 */
import { expect } from 'chai';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BusClient } from '../../adapters/bus';
import { encodeMessage, MllpClient, type Hl7Charset } from '../../adapters/hl7';
import { SimulatedRecord } from '../../simulators/record';
import { runModality } from '../../simulators/modality';
import { dcmdump, echoscu, runTool, storescu } from '../support/dcmtk';
import { startHubProcess, waitUntil, type HubProcess } from '../support/hub-process';
import { freePort, tempDir } from '../support/net';
import { startOrthanc, type RunningOrthanc } from '../support/orthanc';
import { parseWithPython, pyComponents, type PyMessage } from '../support/python-hl7';
import { sharedFixture } from '../support/shared';
import { pixelDataOf, pixelDataOfFile } from '../adapters/dicom/pixels';
import { newUid, writeObject } from '../adapters/dicom/objects';

const SITE_TZ = 'Europe/Paris';
const VIEWER = 'https://pacs.example/viewer?StudyInstanceUIDs={study}&acc={accession}';
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

/** Today in the site's zone, as DICOM DA, and a time this morning as HL7 DTM. */
function today(): { da: string; dtm: string } {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: SITE_TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date()).map((p) => [p.type, p.value]));
  const da = `${parts.year}${parts.month}${parts.day}`;
  return { da, dtm: `${da}0830` };
}

interface OrderSpec {
  type: 'OMI' | 'ORM';
  charset: Hl7Charset;
  control?: string;
  patientId: string;
  name: string;
  placer: string;
  accession: string;
  modality: string;
  station?: string;
  start: string;
}

/** An imaging order as a record writes it: OMI^O23 (TQ1, OBR, IPC) or ORM^O01 in IHE's form (OBR-18/19/20/24). */
function order(spec: OrderSpec): Buffer {
  const control = spec.control ?? 'NW';
  const msh = `MSH|^~\\&|DPI|CLINIQUE|PASSERELLE|SITE|${spec.start}||${spec.type === 'OMI' ? 'OMI^O23^OMI_O23' : 'ORM^O01'}|${spec.placer}-${control}|P|2.5.1|||||FRA|${spec.charset}`;
  const pid = `PID|||${spec.patientId}^^^CLINIQUE^PI||${spec.name}||19610314|F`;
  const orc = `ORC|${control}|${spec.placer}^DPI|${spec.accession}^RIS||SC`;
  const segments = spec.type === 'OMI'
    ? [msh, pid, orc, `TQ1|||||||${spec.start}`, `OBR||${spec.placer}^DPI|${spec.accession}^RIS|RXTHORAX^Radiographie du thorax^L`,
      `IPC|${spec.accession}|RP-${spec.placer}||SPS-${spec.placer}|${spec.modality}|RXTHORAX^Thorax face^L|Salle 1|Radiologie|${spec.station ?? ''}`]
    : [msh, pid, orc, `OBR|1|${spec.placer}^DPI|${spec.accession}^RIS|ECHOABDO^Échographie abdominale^L${'|'.repeat(14)}${spec.accession}|RP-${spec.placer}|SPS-${spec.placer}||||${spec.modality}|||^^^${spec.start}`];
  return encodeMessage(segments.join('\r'), spec.charset).bytes;
}

/** findscu -W with a query written by dump2dcm; the answers as dcmdump text, one per file. */
async function findWorklist(port: number, dir: string, name: string, query: string, calling = 'CT01'): Promise<string[]> {
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  const dump = join(out, 'query.dump');
  writeFileSync(dump, query, 'latin1');
  const made = await runTool('dump2dcm', [dump, join(out, 'query.dcm')]);
  expect(made.code, made.stderr).to.equal(0);
  const run = await runTool('findscu', ['-W', '-aet', calling, '-aec', 'PASSERELLE', '-X', '-od', out, '127.0.0.1', String(port), join(out, 'query.dcm')]);
  expect(run.code, `${run.stdout}${run.stderr}`).to.equal(0);
  return readdirSync(out).filter((f) => /^rsp\d+\.dcm$/.test(f)).sort().map((f) => dcmdump(join(out, f)));
}

/** The value of a tag in dcmdump's text (the first occurrence), e.g. (0010,0010). */
function tag(dump: string, t: string): string | undefined {
  const line = dump.split('\n').find((l) => l.trim().startsWith(t));
  return line && /\[(.*)\]/.exec(line)?.[1];
}

/** A worklist query: top-level keys, then the Scheduled Procedure Step item's. */
function query(charset: string, top: Record<string, string>, step: Record<string, string>): string {
  const line = ([t, v]: [string, string]) => `${t} ${KEYS[t]} [${v}]`;
  return [
    `(0008,0005) CS [${charset}]`,
    ...Object.entries({ '(0008,0050)': '', '(0010,0010)': '', '(0010,0020)': '', '(0020,000d)': '', '(0040,1001)': '', '(0032,1060)': '', ...top }).map(line),
    '(0040,0100) SQ (Sequence with undefined length)', '(fffe,e000) na (Item with undefined length)',
    ...Object.entries({ '(0040,0001)': '', '(0008,0060)': '', '(0040,0002)': '', '(0040,0003)': '', '(0040,0009)': '', ...step }).map(line),
    '(fffe,e00d) na', '(fffe,e0dd) na', '',
  ].join('\n');
}
const KEYS: Record<string, string> = {
  '(0008,0050)': 'SH', '(0010,0010)': 'PN', '(0010,0020)': 'LO', '(0020,000d)': 'UI', '(0040,1001)': 'SH', '(0032,1060)': 'LO',
  '(0040,0001)': 'AE', '(0008,0060)': 'CS', '(0040,0002)': 'DA', '(0040,0003)': 'TM', '(0040,0009)': 'SH',
};

/** OBX-5 of the observation whose OBX-3 code is `code`. */
function obxValue(message: PyMessage, code: string): string | undefined {
  const obx = message.segments.filter((s) => s.name === 'OBX').find((s) => s.fields[3]?.[0]?.[0]?.[0] === code);
  return obx?.fields[5]?.[0]?.[0]?.[0];
}

describe('imaging through the running hub: worklist, MPPS, Orthanc (with storage commitment), the record', function () {
  this.timeout(120_000);
  let data: ReturnType<typeof tempDir>;
  let record: SimulatedRecord;
  let orthanc: RunningOrthanc;
  let hub: HubProcess;
  let dicomPort: number;
  let bus: BusClient;
  const events: Array<{ topic: string; payload: Record<string, any> }> = [];
  const on = (suffix: string) => events.filter((e) => e.topic.endsWith(suffix)).map((e) => e.payload);
  const day = today();
  const CT = { type: 'OMI', charset: '8859/1', patientId: 'IPP-CT-7', name: 'LEFÈVRE^Noël', placer: 'CMD-CT-1', accession: 'ACC-CT-1', modality: 'CT', station: 'CT01', start: day.dtm } as const;
  const US = { type: 'ORM', charset: 'UNICODE UTF-8', patientId: 'IPP-US-8', name: 'NOËL^Hélène^Françoise', placer: 'CMD-US-1', accession: 'ACC-US-1', modality: 'US', start: day.dtm } as const;
  const CANCELLED = { type: 'ORM', charset: 'UNICODE UTF-8', patientId: 'IPP-DX-9', name: 'GÉRARD^Zoé', placer: 'CMD-DX-1', accession: 'ACC-DX-1', modality: 'DX', start: day.dtm } as const;

  before(async () => {
    data = tempDir();
    record = await new SimulatedRecord().start();
    dicomPort = await freePort();
    // Orthanc knows the hub, to send its storage commitment reports to the hub's DICOM port.
    orthanc = await startOrthanc({ modalities: { hub: { aeTitle: 'PASSERELLE', host: '127.0.0.1', port: dicomPort } } });
    hub = await startHubProcess(join(data.dir, 'hub'), {
      EHR_MLLP: `127.0.0.1:${record.port}`,
      DICOM_PORT: String(dicomPort),
      DICOM_AET: 'PASSERELLE',
      PACS_DICOM: `${orthanc.aeTitle}@127.0.0.1:${orthanc.dicomPort}`,
      PACS_COMMITMENT: 'on',
      IMAGING_VIEWER_URL: VIEWER,
      IMAGING_QUIET_SECONDS: '2',
      SITE_TZ,
    });
    await waitUntil(async () => (await fetch(`${hub.url}/passerelle/api/health`)).status === 200, 30_000, () => `flows running:\n${hub.output()}`);
    bus = await BusClient.connect({ url: hub.mqttUrl, clientId: 'test-imaging-watcher' });
    await bus.subscribeDurable('passerelle/v1/test-site/imaging/#', async (topic, payload) => { events.push({ topic, payload: JSON.parse(payload.toString()) }); });
  });

  after(async () => {
    await bus?.close();
    await hub?.stop();
    await orthanc?.stop();
    await record?.stop();
    data?.remove();
  });

  it('answers echoscu on the DICOM port', async () => {
    const run = await echoscu(dicomPort, { calling: 'CT01' });
    expect(run.code, run.stderr).to.equal(0);
  });

  it('puts the orders received over MLLP on the worklist findscu -W reads, matched on station, modality and dates; a cancelled order leaves it', async () => {
    const client = new MllpClient({ host: '127.0.0.1', port: Number(hub.env.MLLP_IN_PORT) });
    const orders = [
      readFileSync(sharedFixture('hl7', 'omi-o23_imaging-order_declared-8859-1_contains-utf8.hl7')),
      readFileSync(sharedFixture('hl7', 'orm-o01_radiology-order_mesa.hl7')),
      order(CT), order(US), order(CANCELLED),
    ];
    for (const bytes of orders) {
      const controlId = /^MSH(?:\|[^|\r]*){8}\|([^|\r]*)/.exec(bytes.toString('latin1'))![1];
      expect((await client.send(bytes, controlId, 10_000)).code).to.equal('AA');
    }

    // The CT room asks, in ISO_IR 100, for its own steps today: the order written in 8859/1.
    const ct = await findWorklist(dicomPort, data.dir, 'ct', query('ISO_IR 100', {}, { '(0040,0001)': 'CT01', '(0008,0060)': 'CT', '(0040,0002)': day.da }));
    expect(ct).to.have.length(1);
    expect(tag(ct[0], '(0008,0005)')).to.equal('ISO_IR 192');
    expect(tag(ct[0], '(0010,0010)')).to.equal('LEFÈVRE^Noël');
    expect(tag(ct[0], '(0010,0020)')).to.equal('IPP-CT-7');
    expect(tag(ct[0], '(0008,0050)')).to.equal('ACC-CT-1');
    expect(tag(ct[0], '(0040,1001)')).to.equal('RP-CMD-CT-1');
    expect(tag(ct[0], '(0040,0009)')).to.equal('SPS-CMD-CT-1');
    expect(tag(ct[0], '(0040,0002)')).to.equal(day.da);
    expect(tag(ct[0], '(0040,0003)')).to.equal('083000');
    expect(tag(ct[0], '(0020,000d)')).to.match(/^2\.25\.\d+$/);

    // The shared OMI fixture: a CT step on 2000-08-16 at 15:10, for two stations (wild card on the station).
    const fixture = await findWorklist(dicomPort, data.dir, 'omi', query('ISO_IR 192', {}, { '(0040,0001)': 'ScheduledSta*', '(0008,0060)': 'CT', '(0040,0002)': '20000816', '(0040,0003)': '1500-1600' }));
    expect(fixture).to.have.length(1);
    expect(tag(fixture[0], '(0010,0010)')).to.equal('Smith^Lucy^Mark');
    expect(tag(fixture[0], '(0008,0050)')).to.equal('AccessionNumber');
    expect(tag(fixture[0], '(0020,000d)')).to.equal('1.2.392.200036.9125.0.198811291108.7');
    // The fixture's station AE titles have 20 characters, more than DICOM's 16: the answer's encoder cuts them.
    expect(tag(fixture[0], '(0040,0001)')).to.equal('ScheduledStation\\ScheduledStation');

    // The MESA ORM: MR, no station (a query without one), a date range around 2000-07-01.
    const mesa = await findWorklist(dicomPort, data.dir, 'orm', query('ISO_IR 100', {}, { '(0008,0060)': 'MR', '(0040,0002)': '20000701-20000702' }), 'MR01');
    expect(mesa).to.have.length(1);
    expect([tag(mesa[0], '(0010,0010)'), tag(mesa[0], '(0008,0050)'), tag(mesa[0], '(0040,1001)'), tag(mesa[0], '(0040,0009)'), tag(mesa[0], '(0020,000d)')])
      .to.deep.equal(['DOE^J1', 'MOF5026', 'RP1026', 'SPS2032', '1.113654.3.13.1026']);

    // A name in ISO_IR 100, case and accents aside: the UTF-8 order's patient.
    const byName = await findWorklist(dicomPort, data.dir, 'name', query('ISO_IR 100', { '(0010,0010)': 'noel*' }, {}), 'US01');
    expect(byName.map((d) => tag(d, '(0010,0010)'))).to.deep.equal(['NOËL^Hélène^Françoise']);
    expect(await findWorklist(dicomPort, data.dir, 'none', query('ISO_IR 100', {}, { '(0040,0001)': 'CT02', '(0008,0060)': 'CT', '(0040,0002)': day.da }), 'CT02')).to.have.length(0);

    // Cancelled by the record (ORC-1 CA): gone.
    expect(await findWorklist(dicomPort, data.dir, 'dx-before', query('ISO_IR 100', {}, { '(0008,0060)': 'DX' }), 'DX01')).to.have.length(1);
    const cancel = order({ ...CANCELLED, control: 'CA' });
    expect((await client.send(cancel, `${CANCELLED.placer}-CA`, 10_000)).code).to.equal('AA');
    expect(await findWorklist(dicomPort, data.dir, 'dx-after', query('ISO_IR 100', {}, { '(0008,0060)': 'DX' }), 'DX01')).to.have.length(0);
    await client.close();
  });

  it('a modality performs the CT step: MPPS started and completed on the bus, its images in Orthanc with the same pixel data, the record notified', async () => {
    const started = Date.now();
    const run = await runModality({ host: '127.0.0.1', port: dicomPort, aeTitle: 'CT01', calledAeTitle: 'PASSERELLE', modality: 'CT', date: day.da, images: 2, files: [], mpps: true, discontinue: false, log: () => undefined });
    expect(run.mppsStatuses).to.deep.equal([0, 0]);
    expect(run.stored.map((s) => s.status)).to.deep.equal([0, 0]);
    const studyUid = String(run.step.StudyInstanceUID);

    await waitUntil(() => on('/procedure').length >= 2 && on('/stored').length >= 2 && on('/delivery').filter((d) => d.state === 'accepted').length >= 2, 30_000, () => `events: ${events.map((e) => e.topic).join(', ')}\n${hub.output()}`);
    const [begin, end] = on('/procedure');
    expect(begin).to.deep.include({ schema: 'passerelle.procedure/1', event: 'started', mppsInstanceUid: run.mppsInstanceUid, accessionNumber: 'ACC-CT-1', modality: 'CT' });
    expect(begin.study).to.deep.equal({ instanceUid: studyUid });
    expect(begin.patient.name).to.deep.equal({ family: 'LEFÈVRE', given: ['Noël'] });
    expect(end).to.deep.include({ event: 'completed', mppsInstanceUid: run.mppsInstanceUid, accessionNumber: 'ACC-CT-1' });
    expect(end.series).to.deep.equal([{ instanceUid: run.seriesInstanceUid, images: 2 }]);
    expect(end.times.ended).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);

    // The images, in UTF-8 (ISO_IR 192), with the worklist's patient and accession number: the same pixels in Orthanc.
    for (const stored of on('/stored').filter((s) => s.study.instanceUid === studyUid)) {
      expect(stored).to.deep.include({ accessionNumber: 'ACC-CT-1', characterSet: 'ISO_IR 192' });
      expect(stored.patient.name).to.deep.equal({ family: 'LEFÈVRE', given: ['Noël'] });
      const inOrthanc = await orthanc.fileOf(stored.instance.sopInstanceUid);
      expect(inOrthanc, 'in Orthanc').to.not.equal(undefined);
      expect(pixelDataOf(inOrthanc!).equals(pixelDataOfFile(stored.file.path))).to.equal(true);
    }
    // Orthanc committed to keep each of them (storage commitment, its report on the hub's DICOM port).
    const images = on('/stored').filter((s) => s.study.instanceUid === studyUid).map((s) => s.instance.sopInstanceUid).sort();
    await waitUntil(() => on('/commitment').filter((c) => c.state === 'committed').length >= 2, 30_000, () => `commitments: ${JSON.stringify(on('/commitment'))}`);
    expect(on('/commitment').filter((c) => c.state === 'committed').map((c) => c.sopInstanceUid).sort()).to.deep.equal(images);

    // The record: one ORU with the order's patient, the accession number, the study and its link.
    await record.waitFor(1);
    const oru = record.received[0];
    expect(oru.messageType).to.match(/^ORU\^R01/);
    const py = parseWithPython(oru.bytes);
    expect(pyComponents(py, 'PID', 5)!.slice(0, 2)).to.deep.equal(['LEFÈVRE', 'Noël']);
    expect(pyComponents(py, 'PID', 3)![0]).to.equal('IPP-CT-7');
    expect(pyComponents(py, 'ORC', 2)![0]).to.equal('CMD-CT-1');
    expect(obxValue(py, '121022')).to.equal('ACC-CT-1');
    expect(obxValue(py, '110180')).to.equal(studyUid);
    expect(obxValue(py, 'VIEWER-URL')).to.equal(`https://pacs.example/viewer?StudyInstanceUIDs=${studyUid}&acc=ACC-CT-1`);
    const result = on('/result').find((r) => r.kind === 'imaging' && r.order?.accessionNumber === 'ACC-CT-1');
    expect(result!.patient).to.deep.include({ matched: true, matchedBy: 'order' });
    console.log(`      exam → ORU at the record: ${Date.now() - started} ms (worklist query, MPPS, 2 images, MPPS completed, ORU ACKed)`);
  });

  it('storescu objects in ISO_IR 100 and ISO_IR 192 without MPPS: names right on the bus, the study told to the record after the quiet period', async () => {
    const us = await findWorklist(dicomPort, data.dir, 'us', query('ISO_IR 100', {}, { '(0008,0060)': 'US', '(0040,0002)': day.da }), 'US01');
    const studyUid = tag(us[0], '(0020,000d)')!;
    const dir = join(data.dir, 'objects');
    mkdirSync(dir, { recursive: true });
    const latin1 = await writeObject(join(dir, 'latin1.dcm'), {
      sopClassUid: SECONDARY_CAPTURE, characterSet: 'ISO_IR 100', patientName: 'NOËL^Hélène^Françoise', patientId: 'IPP-US-8', accessionNumber: 'ACC-US-1',
      studyInstanceUid: studyUid, modality: 'US', studyDescription: 'Échographie abdominale', pixels: { rows: 32, columns: 32 },
    });
    const utf8 = await writeObject(join(dir, 'utf8.dcm'), {
      sopClassUid: SECONDARY_CAPTURE, characterSet: 'ISO_IR 192', patientName: 'ÇA^Ève', patientId: 'IPP-X', accessionNumber: 'ACC-NONE', studyInstanceUid: newUid(),
      modality: 'OT', pixels: { rows: 16, columns: 16 },
    });
    const fixture = sharedFixture('dicom', 'cr_agfa_cspine_16x16.dcm');
    const run = await storescu(dicomPort, [latin1.path, utf8.path, fixture], { calling: 'US01' });
    expect(run.code, run.stderr).to.equal(0);

    await waitUntil(() => on('/stored').some((s) => s.instance.sopInstanceUid === utf8.sopInstanceUid) && on('/stored').some((s) => s.instance.sopInstanceUid === latin1.sopInstanceUid), 20_000, () => 'stored events');
    const fromLatin1 = on('/stored').find((s) => s.instance.sopInstanceUid === latin1.sopInstanceUid)!;
    const fromUtf8 = on('/stored').find((s) => s.instance.sopInstanceUid === utf8.sopInstanceUid)!;
    expect(fromLatin1.patient.name).to.deep.equal({ family: 'NOËL', given: ['Hélène', 'Françoise'] });
    expect(fromLatin1.study.description).to.equal('Échographie abdominale');
    expect(fromUtf8.patient.name).to.deep.equal({ family: 'ÇA', given: ['Ève'] });

    // The dcmtk-sent objects reach Orthanc too, the real CR fixture with its own pixel data.
    await waitUntil(async () => (await orthanc.instanceCount()) >= 5, 20_000, () => 'five instances in Orthanc');
    const crUid = /\(0008,0018\) UI \[([0-9.]+)\]/.exec(dcmdump(fixture))![1];
    expect(pixelDataOf((await orthanc.fileOf(crUid))!).equals(pixelDataOfFile(fixture))).to.equal(true);
    expect(pixelDataOf((await orthanc.fileOf(latin1.sopInstanceUid))!).equals(pixelDataOfFile(latin1.path))).to.equal(true);

    // Two seconds without an image: the US study (it has an order) is told to the record; the two
    // studies without an order are held (their patient is the modality's, not matched).
    await record.waitFor(2);
    const py = parseWithPython(record.received[1].bytes);
    expect(pyComponents(py, 'PID', 5)!.slice(0, 3)).to.deep.equal(['NOËL', 'Hélène', 'Françoise']);
    expect(obxValue(py, '121022')).to.equal('ACC-US-1');
    expect(obxValue(py, '110180')).to.equal(studyUid);
    await waitUntil(() => on('/result').length >= 4, 10_000, () => `results: ${on('/result').length}`);
    const held = on('/result').filter((r) => r.patient?.matched === false);
    expect(held.map((r) => r.observations.find((o: { deviceCode: { code: string } }) => o.deviceCode.code === '110180').value).sort()).to.deep.equal([fromUtf8.study.instanceUid, on('/stored').find((s) => s.instance.sopInstanceUid === crUid)!.study.instanceUid].sort());
    // "to the record" says it holds them (delivery 'held'); the record got nothing else.
    await waitUntil(() => on('/delivery').filter((d) => d.state === 'held').length >= 2, 10_000, () => 'held deliveries');
    expect(on('/delivery').filter((d) => d.state === 'held').map((d) => d.resultId).sort()).to.deep.equal(held.map((r) => r.id).sort());
    expect(record.received).to.have.length(2);
  });
});
