/**
 * A simulated modality (X-ray, ultrasound, CT...) playing one exam against the hub's DICOM port:
 * it queries the worklist (C-FIND MWL) for its station, takes the first step, says the exam
 * started (MPPS N-CREATE, IN PROGRESS), sends images — its own files, or Secondary Captures it
 * makes carrying the worklist's patient, accession number and Study Instance UID — and says the
 * exam ended (MPPS N-SET, COMPLETED, or DISCONTINUED). Each association is a separate one, as
 * modalities do. It prints what it does (no patient data beyond the step's accession number).
 *
 *   npm run simulate -- modality --port 11112 [--host 127.0.0.1 --aet CT01 --called PASSERELLE
 *        --modality CT --date 20260316 --images 3 | --files a.dcm,b.dcm --discontinue --no-mpps]
 */
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Client, constants, Dataset, requests, type responses } from 'dcmjs-dimse';
import { readObjectHeader } from '../adapters/dicom/header';
import { MODALITY_PERFORMED_PROCEDURE_STEP } from '../adapters/dicom/mpps';
import { StoreScu } from '../adapters/dicom/store-scu';
import { uuidUid } from '../adapters/dicom/uids';
import type { NaturalDataset } from '../adapters/dicom/worklist';

const { CFindRequest, CStoreRequest, NCreateRequest, NSetRequest } = requests;
const { Status } = constants;
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

export interface ModalityOptions {
  host: string;
  port: number;
  aeTitle: string;
  calledAeTitle: string;
  modality?: string;
  /** The worklist's start date to ask for (DA or a range); absent: any. */
  date?: string;
  /** Secondary Captures to make (when no files are given). */
  images: number;
  files: string[];
  mpps: boolean;
  discontinue: boolean;
  log?: (line: string) => void;
}

export interface ModalityRun {
  /** The worklist's answers. */
  worklist: NaturalDataset[];
  /** The step performed (the first answer). */
  step: NaturalDataset;
  mppsInstanceUid?: string;
  /** The objects sent, with the C-STORE status of each. */
  stored: Array<{ sopClassUid: string; sopInstanceUid: string; seriesInstanceUid: string; status: number }>;
  /** The series of the generated images. */
  seriesInstanceUid: string;
  /** The statuses of N-CREATE and N-SET. */
  mppsStatuses: number[];
}

export function parseModalityArguments(argv: string[]): ModalityOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '11112' },
      aet: { type: 'string', default: 'MODALITY' },
      called: { type: 'string', default: 'PASSERELLE' },
      modality: { type: 'string' },
      date: { type: 'string' },
      images: { type: 'string', default: '2' },
      files: { type: 'string' },
      'no-mpps': { type: 'boolean', default: false },
      discontinue: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port ${values.port}: expected a port from 1 to 65535`);
  const images = Number(values.images);
  if (!Number.isInteger(images) || images < 0 || images > 1000) throw new Error(`--images ${values.images}: expected a whole number from 0 to 1000`);
  for (const [name, title] of [['aet', values.aet], ['called', values.called]] as const) {
    if (!/^[\x20-\x5b\x5d-\x7e]{1,16}$/.test(title ?? '')) throw new Error(`--${name} ${title ?? ''}: an AE title is 1 to 16 characters`);
  }
  if (values.date !== undefined && !/^(\d{8})?(-(\d{8})?)?$/.test(values.date)) throw new Error(`--date ${values.date}: expected YYYYMMDD or a range YYYYMMDD-YYYYMMDD`);
  return {
    host: values.host ?? '127.0.0.1', port, aeTitle: values.aet!, calledAeTitle: values.called!, modality: values.modality?.toUpperCase(), date: values.date,
    images, files: values.files ? values.files.split(',').map((f) => f.trim()).filter((f) => f !== '') : [], mpps: !values['no-mpps'], discontinue: values.discontinue,
  };
}

/** Sends requests on one association; resolves with their responses once it is released. */
function exchange(options: ModalityOptions, list: requests.Request[]): Promise<Array<InstanceType<typeof responses.CFindResponse>>> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const answers: Array<InstanceType<typeof responses.CFindResponse>> = [];
    for (const request of list) {
      request.on('response', (response: InstanceType<typeof responses.CFindResponse>) => answers.push(response));
      client.addRequest(request);
    }
    client.on('associationRejected', (result: { reason: number }) => reject(new Error(`association rejected (reason ${result.reason})`)));
    client.on('networkError', (err: Error) => reject(err));
    client.on('closed', () => resolve(answers));
    client.send(options.host, options.port, options.aeTitle, options.calledAeTitle);
  });
}

function first(value: unknown): string {
  const v = Array.isArray(value) ? value[0] : value;
  if (typeof v === 'object' && v !== null) return String((v as { Alphabetic?: string }).Alphabetic ?? '');
  return v === undefined || v === null ? '' : String(v);
}

function dicomNow(at = new Date()): { date: string; time: string } {
  const pad = (n: number) => String(n).padStart(2, '0');
  return { date: `${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}`, time: `${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}` };
}

/** A 64×64 8-bit Secondary Capture with the step's patient, accession number and study, in UTF-8. */
export function secondaryCapture(step: NaturalDataset, stepItem: NaturalDataset, seriesInstanceUid: string, index: number, modality: string): Dataset {
  const pixels = new Uint8Array(64 * 64);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * (index + 3) + index * 17) & 0xff;
  const now = dicomNow();
  return new Dataset({
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: SECONDARY_CAPTURE,
    SOPInstanceUID: uuidUid(),
    StudyInstanceUID: first(step.StudyInstanceUID),
    SeriesInstanceUID: seriesInstanceUid,
    PatientName: step.PatientName ?? [],
    PatientID: first(step.PatientID),
    PatientBirthDate: first(step.PatientBirthDate),
    PatientSex: first(step.PatientSex),
    AccessionNumber: first(step.AccessionNumber),
    StudyDescription: first(step.RequestedProcedureDescription),
    StudyDate: now.date,
    StudyTime: now.time,
    ContentDate: now.date,
    ContentTime: now.time,
    Modality: modality,
    ConversionType: 'WSD',
    StationName: first(stepItem.ScheduledStationName),
    SeriesNumber: '1',
    InstanceNumber: String(index + 1),
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: 64,
    Columns: 64,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    PixelData: [pixels.buffer],
    _vrMap: { PixelData: 'OB' },
  }, '1.2.840.10008.1.2.1');
}

export async function runModality(options: ModalityOptions): Promise<ModalityRun> {
  const log = options.log ?? ((line: string) => console.log(line));
  const target = `${options.calledAeTitle}@${options.host}:${options.port}`;

  // 1. The worklist, for this station (and modality, and date when given).
  const stepKeys: NaturalDataset = { ScheduledStationAETitle: options.aeTitle, ScheduledProcedureStepStartDate: options.date ?? '', ScheduledProcedureStepStartTime: '', Modality: options.modality ?? '', ScheduledProcedureStepID: '', ScheduledProcedureStepDescription: '', ScheduledStationName: '' };
  const query = CFindRequest.createWorklistFindRequest({ ScheduledProcedureStepSequence: [stepKeys] });
  const answers = (await exchange(options, [query])).filter((r) => r.getStatus() === Status.Pending && r.hasDataset()).map((r) => r.getDataset()!.getElements() as NaturalDataset);
  log(`worklist of ${options.aeTitle} at ${target}: ${answers.length} step(s)`);
  if (answers.length === 0) throw new Error(`the worklist has no step for ${options.aeTitle}${options.modality ? ` (${options.modality})` : ''}${options.date ? ` on ${options.date}` : ''}`);
  const step = answers[0];
  const stepItem = ((step.ScheduledProcedureStepSequence as NaturalDataset[] | undefined) ?? [{}])[0] ?? {};
  const modality = options.modality ?? (first(stepItem.Modality) || 'OT');
  log(`performing accession ${first(step.AccessionNumber)}, study ${first(step.StudyInstanceUID)}`);
  const run: ModalityRun = { worklist: answers, step, stored: [], seriesInstanceUid: uuidUid(), mppsStatuses: [] };

  // 2. MPPS: the exam started.
  const started = dicomNow();
  const scheduledAttributes = [{
    AccessionNumber: first(step.AccessionNumber), StudyInstanceUID: first(step.StudyInstanceUID), RequestedProcedureID: first(step.RequestedProcedureID),
    RequestedProcedureDescription: first(step.RequestedProcedureDescription), ScheduledProcedureStepID: first(stepItem.ScheduledProcedureStepID),
  }];
  if (options.mpps) {
    run.mppsInstanceUid = uuidUid();
    const create = new NCreateRequest(MODALITY_PERFORMED_PROCEDURE_STEP, run.mppsInstanceUid);
    create.setDataset(new Dataset({
      SpecificCharacterSet: 'ISO_IR 192',
      PatientName: step.PatientName ?? [], PatientID: first(step.PatientID), PatientBirthDate: first(step.PatientBirthDate), PatientSex: first(step.PatientSex),
      ScheduledStepAttributesSequence: scheduledAttributes,
      PerformedProcedureStepID: `PPS${Date.now() % 100000}`, PerformedStationAETitle: options.aeTitle, PerformedStationName: first(stepItem.ScheduledStationName),
      PerformedProcedureStepStartDate: started.date, PerformedProcedureStepStartTime: started.time,
      PerformedProcedureStepEndDate: '', PerformedProcedureStepEndTime: '',
      PerformedProcedureStepStatus: 'IN PROGRESS', PerformedProcedureStepDescription: first(step.RequestedProcedureDescription),
      Modality: modality, StudyID: '', PerformedSeriesSequence: [],
    }));
    const [created] = await exchange(options, [create]);
    run.mppsStatuses.push(created?.getStatus() ?? -1);
    log(`MPPS N-CREATE IN PROGRESS: status 0x${(created?.getStatus() ?? 0xffff).toString(16).padStart(4, '0')}`);
  }

  // 3. The images: files sent as they are (their own bytes, by the hub's SCU), or Secondary Captures made for the step.
  if (options.files.length > 0) {
    run.stored = await sendFiles(options);
  } else if (options.images > 0) {
    const images = Array.from({ length: options.images }, (_, i) => secondaryCapture(step, stepItem, run.seriesInstanceUid, i, modality));
    const responses = await exchange(options, images.map((image) => new CStoreRequest(image)));
    run.stored = responses.map((response, i) => ({
      sopClassUid: SECONDARY_CAPTURE, sopInstanceUid: String((images[i].getElements() as NaturalDataset).SOPInstanceUID), seriesInstanceUid: run.seriesInstanceUid, status: response.getStatus(),
    }));
  }
  if (run.stored.length > 0) log(`C-STORE: ${run.stored.filter((s) => s.status === Status.Success).length} of ${run.stored.length} image(s) stored`);

  // 4. MPPS: the exam ended.
  if (options.mpps && run.mppsInstanceUid) {
    const ended = dicomNow();
    const set = new NSetRequest(MODALITY_PERFORMED_PROCEDURE_STEP, run.mppsInstanceUid);
    set.setDataset(new Dataset({
      PerformedProcedureStepEndDate: ended.date, PerformedProcedureStepEndTime: ended.time,
      PerformedProcedureStepStatus: options.discontinue ? 'DISCONTINUED' : 'COMPLETED',
      PerformedSeriesSequence: [...new Set(run.stored.map((s) => s.seriesInstanceUid))].map((series) => ({
        SeriesInstanceUID: series, Modality: modality, SeriesDescription: '', PerformingPhysicianName: [], OperatorsName: [], ProtocolName: first(stepItem.ScheduledProcedureStepDescription) || 'SIMULATED',
        RetrieveAETitle: '',
        ReferencedImageSequence: run.stored.filter((s) => s.seriesInstanceUid === series).map((s) => ({ ReferencedSOPClassUID: s.sopClassUid, ReferencedSOPInstanceUID: s.sopInstanceUid })),
        ReferencedNonImageCompositeSOPInstanceSequence: [],
      })),
    }));
    const [setResponse] = await exchange(options, [set]);
    run.mppsStatuses.push(setResponse?.getStatus() ?? -1);
    log(`MPPS N-SET ${options.discontinue ? 'DISCONTINUED' : 'COMPLETED'}: status 0x${(setResponse?.getStatus() ?? 0xffff).toString(16).padStart(4, '0')}`);
  }
  return run;
}

/** Part 10 files, each on its own association, as their bytes are (dcmjs would re-encode them, dropping private tags). */
async function sendFiles(options: ModalityOptions): Promise<ModalityRun['stored']> {
  const scu = new StoreScu({ pacs: { aeTitle: options.calledAeTitle, host: options.host, port: options.port }, callingAeTitle: options.aeTitle });
  const stored: ModalityRun['stored'] = [];
  for (const path of options.files) {
    const { values } = await readObjectHeader(path, statSync(path).size);
    const sopInstanceUid = values.SOPInstanceUID ?? '';
    const ack = await scu.send(Buffer.from(JSON.stringify({ path, sopInstanceUid })), `SIM${stored.length + 1}`, 60_000);
    const status = /status 0x([0-9A-F]{4})/i.exec(ack.text ?? '');
    stored.push({ sopClassUid: values.SOPClassUID ?? '', sopInstanceUid, seriesInstanceUid: values.SeriesInstanceUID ?? '', status: status ? parseInt(status[1], 16) : -1 });
  }
  return stored;
}

/** `npm run simulate -- modality …`: 0 when every step succeeded. */
export async function simulateModality(argv: string[]): Promise<number> {
  const run = await runModality(parseModalityArguments(argv));
  const ok = run.stored.every((s) => s.status === Status.Success) && run.mppsStatuses.every((s) => s === Status.Success);
  return ok ? 0 : 1;
}
