/**
 * The imaging tables: the modality worklist's scheduled procedure steps (from the record's
 * imaging orders), the procedure steps the modalities performed (MPPS), and each study's
 * progress towards the notification of the record (images seen, exam ended, notified).
 * The journal stores the details as JSON; adapters/dicom gives them their meaning.
 */
import type Database from 'better-sqlite3';
import { opt } from './sql';

export type StepStatus = 'scheduled' | 'cancelled' | 'performed';
export type PerformedStatus = 'IN PROGRESS' | 'COMPLETED' | 'DISCONTINUED';

export interface ScheduledStepInput {
  accessionNumber: string;
  /** The scheduled procedure step id; one order may schedule several. */
  stepId?: string;
  placerNumber?: string;
  /** Cancelled: every step of the order (by accession or placer number) leaves the worklist. */
  cancelled: boolean;
  /** The step as the worklist answers it. */
  details: unknown;
  sourceJournalId?: string;
}

export interface ScheduledStep {
  key: string;
  accessionNumber: string;
  status: StepStatus;
  details: unknown;
  updatedAt: number;
}

export interface PerformedStep {
  mppsUid: string;
  status: PerformedStatus;
  deviceId: string;
  accessionNumber?: string;
  studyInstanceUid?: string;
  details: unknown;
  updatedAt: number;
}

export interface ImagingStudy {
  studyInstanceUid: string;
  deviceId: string;
  accessionNumber?: string;
  images: number;
  firstImageAt?: number;
  lastImageAt?: number;
  /** The exam's end as MPPS said it, when it did. */
  performedStatus?: PerformedStatus;
  notifiedAt?: number;
  resultId?: string;
  /** What the study's notification is built from (the latest image's or MPPS's details). */
  details: unknown;
}

interface StepRow { step_key: string; accession_number: string; status: StepStatus; details: string; updated_at: number }
interface PerformedRow { mpps_uid: string; status: PerformedStatus; device_id: string; accession_number: string | null; study_uid: string | null; details: string; updated_at: number }
interface StudyRow {
  study_uid: string; device_id: string; accession_number: string | null; images: number; first_image_at: number | null; last_image_at: number | null;
  performed_status: PerformedStatus | null; notified_at: number | null; result_id: string | null; details: string;
}

const toStep = (r: StepRow): ScheduledStep => ({ key: r.step_key, accessionNumber: r.accession_number, status: r.status, details: JSON.parse(r.details), updatedAt: r.updated_at });

function toPerformed(r: PerformedRow): PerformedStep {
  const step: PerformedStep = { mppsUid: r.mpps_uid, status: r.status, deviceId: r.device_id, details: JSON.parse(r.details), updatedAt: r.updated_at };
  if (r.accession_number !== null) step.accessionNumber = r.accession_number;
  if (r.study_uid !== null) step.studyInstanceUid = r.study_uid;
  return step;
}

function toStudy(r: StudyRow): ImagingStudy {
  const study: ImagingStudy = { studyInstanceUid: r.study_uid, deviceId: r.device_id, images: r.images, details: JSON.parse(r.details) };
  const set = <K extends keyof ImagingStudy>(key: K, value: ImagingStudy[K] | null) => { const v = opt(value); if (v !== undefined) study[key] = v; };
  set('accessionNumber', r.accession_number);
  set('firstImageAt', r.first_image_at);
  set('lastImageAt', r.last_image_at);
  set('performedStatus', r.performed_status);
  set('notifiedAt', r.notified_at);
  set('resultId', r.result_id);
  return study;
}

/** At most this many steps are offered to one worklist query: a day's list is far shorter. */
const WORKLIST_LIMIT = 5000;

export class ImagingIndex {
  private readonly upsertStep: Database.Statement;
  private readonly cancelSteps: Database.Statement;
  private readonly scheduled: Database.Statement;
  private readonly performStep: Database.Statement;
  private readonly performOrder: Database.Statement;
  private readonly byAccession: Database.Statement;
  private readonly upsertPerformed: Database.Statement;
  private readonly performedByUid: Database.Statement;
  private readonly image: Database.Statement;
  private readonly ended: Database.Statement;
  private readonly studyByUid: Database.Statement;
  private readonly quiet: Database.Statement;
  private readonly endedUnnotified: Database.Statement;
  private readonly notified: Database.Statement;

  constructor(db: Database.Database) {
    this.upsertStep = db.prepare(`INSERT INTO imaging_steps (step_key, accession_number, placer_number, status, details, source_journal_id, updated_at)
      VALUES (@key, @accession, @placer, 'scheduled', @details, @source, @now)
      ON CONFLICT (step_key) DO UPDATE SET status = CASE WHEN imaging_steps.status = 'performed' THEN 'performed' ELSE 'scheduled' END, placer_number = coalesce(excluded.placer_number, imaging_steps.placer_number),
        details = excluded.details, source_journal_id = excluded.source_journal_id, updated_at = excluded.updated_at`);
    this.cancelSteps = db.prepare(`UPDATE imaging_steps SET status = 'cancelled', updated_at = @now
      WHERE status = 'scheduled' AND (accession_number = @accession OR placer_number = @placer)`);
    this.performStep = db.prepare(`UPDATE imaging_steps SET status = 'performed', updated_at = @now WHERE step_key = @key AND status = 'scheduled'`);
    this.performOrder = db.prepare(`UPDATE imaging_steps SET status = 'performed', updated_at = @now WHERE accession_number = @accession AND status = 'scheduled'`);
    this.scheduled = db.prepare(`SELECT * FROM imaging_steps INDEXED BY imaging_steps_scheduled WHERE status = 'scheduled' ORDER BY seq LIMIT ${WORKLIST_LIMIT}`);
    this.byAccession = db.prepare('SELECT * FROM imaging_steps WHERE accession_number = ? ORDER BY (status = \'scheduled\') DESC, updated_at DESC, seq DESC LIMIT 1');
    this.upsertPerformed = db.prepare(`INSERT INTO performed_steps (mpps_uid, status, device_id, accession_number, study_uid, details, created_at, updated_at)
      VALUES (@uid, @status, @device, @accession, @study, @details, @now, @now)
      ON CONFLICT (mpps_uid) DO UPDATE SET status = excluded.status, accession_number = coalesce(excluded.accession_number, performed_steps.accession_number),
        study_uid = coalesce(excluded.study_uid, performed_steps.study_uid), details = excluded.details, updated_at = excluded.updated_at`);
    this.performedByUid = db.prepare('SELECT * FROM performed_steps WHERE mpps_uid = ?');
    this.image = db.prepare(`INSERT INTO imaging_studies (study_uid, device_id, accession_number, images, first_image_at, last_image_at, details)
      VALUES (@study, @device, @accession, 1, @now, @now, @details)
      ON CONFLICT (study_uid) DO UPDATE SET images = images + 1, last_image_at = excluded.last_image_at,
        first_image_at = coalesce(imaging_studies.first_image_at, excluded.first_image_at),
        accession_number = coalesce(imaging_studies.accession_number, excluded.accession_number),
        details = json_patch(excluded.details, imaging_studies.details)`);
    this.ended = db.prepare(`INSERT INTO imaging_studies (study_uid, device_id, accession_number, images, performed_status, details)
      VALUES (@study, @device, @accession, 0, @status, @details)
      ON CONFLICT (study_uid) DO UPDATE SET performed_status = excluded.performed_status,
        accession_number = coalesce(imaging_studies.accession_number, excluded.accession_number),
        details = json_patch(imaging_studies.details, excluded.details)`);
    this.studyByUid = db.prepare('SELECT * FROM imaging_studies WHERE study_uid = ?');
    // Quiet studies: images, no exam in progress by MPPS (its end notifies), not notified yet.
    this.quiet = db.prepare(`SELECT * FROM imaging_studies INDEXED BY imaging_studies_waiting
      WHERE notified_at IS NULL AND last_image_at <= ? AND (performed_status IS NULL OR performed_status <> 'IN PROGRESS') LIMIT 100`);
    this.endedUnnotified = db.prepare(`SELECT * FROM imaging_studies WHERE notified_at IS NULL AND performed_status = 'COMPLETED' LIMIT 100`);
    this.notified = db.prepare('UPDATE imaging_studies SET notified_at = ?, result_id = ? WHERE study_uid = ? AND notified_at IS NULL');
  }

  /** Schedules (or updates) a step, or takes the order's steps off the worklist; the number of steps changed. */
  schedule(step: ScheduledStepInput, now: number): number {
    if (step.accessionNumber.trim() === '') throw new TypeError('a scheduled procedure step needs an accession number');
    if (step.cancelled) return this.cancelSteps.run({ accession: step.accessionNumber, placer: step.placerNumber ?? null, now }).changes;
    const key = `${step.accessionNumber}/${step.stepId ?? ''}`;
    return this.upsertStep.run({ key, accession: step.accessionNumber, placer: step.placerNumber ?? null, details: JSON.stringify(step.details), source: step.sourceJournalId ?? null, now }).changes;
  }

  /**
   * MPPS completed a step: it leaves the worklist (an order sent again does not put it back). The
   * step by its id when MPPS gives it, else every step of the accession number. The number changed.
   */
  stepPerformed(accessionNumber: string, stepId: string | undefined, now: number): number {
    if (stepId) {
      const changed = this.performStep.run({ key: `${accessionNumber}/${stepId}`, now }).changes;
      if (changed > 0) return changed;
    }
    return this.performOrder.run({ accession: accessionNumber, now }).changes;
  }

  /** The steps on the worklist (scheduled, not cancelled or performed), oldest first. */
  worklist(): ScheduledStep[] {
    return (this.scheduled.all() as StepRow[]).map(toStep);
  }

  /** The step of an accession number, a scheduled one first. */
  stepByAccession(accessionNumber: string): ScheduledStep | undefined {
    const row = this.byAccession.get(accessionNumber) as StepRow | undefined;
    return row && toStep(row);
  }

  recordPerformed(step: Omit<PerformedStep, 'updatedAt'>, now: number): void {
    this.upsertPerformed.run({ uid: step.mppsUid, status: step.status, device: step.deviceId, accession: step.accessionNumber ?? null, study: step.studyInstanceUid ?? null, details: JSON.stringify(step.details), now });
  }

  performed(mppsUid: string): PerformedStep | undefined {
    const row = this.performedByUid.get(mppsUid) as PerformedRow | undefined;
    return row && toPerformed(row);
  }

  /** One more image of a study (its details add to what is known, MPPS's and earlier images' kept). */
  noteImage(study: { studyInstanceUid: string; deviceId: string; accessionNumber?: string; details: unknown }, now: number): void {
    this.image.run({ study: study.studyInstanceUid, device: study.deviceId, accession: study.accessionNumber ?? null, details: JSON.stringify(study.details), now });
  }

  /** MPPS said the exam of a study is in progress, completed or discontinued (its details prevail). */
  noteExam(study: { studyInstanceUid: string; deviceId: string; accessionNumber?: string; status: PerformedStatus; details: unknown }): void {
    this.ended.run({ study: study.studyInstanceUid, device: study.deviceId, accession: study.accessionNumber ?? null, status: study.status, details: JSON.stringify(study.details) });
  }

  study(studyInstanceUid: string): ImagingStudy | undefined {
    const row = this.studyByUid.get(studyInstanceUid) as StudyRow | undefined;
    return row && toStudy(row);
  }

  /** Studies due a notification: completed by MPPS, or quiet since `quietSince` without an exam in progress. */
  due(quietSince: number): ImagingStudy[] {
    const rows = [...(this.endedUnnotified.all() as StudyRow[]), ...(this.quiet.all(quietSince) as StudyRow[])];
    const seen = new Set<string>();
    return rows.filter((r) => !seen.has(r.study_uid) && seen.add(r.study_uid)).map(toStudy);
  }

  /** Marks a study notified; false when it already was (another caller won). */
  markNotified(studyInstanceUid: string, resultId: string, now: number): boolean {
    return this.notified.run(now, resultId, studyInstanceUid).changes === 1;
  }
}
