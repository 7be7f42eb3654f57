/**
 * The results index behind the results board: one row per canonical result, a small summary
 * to list and search, the full JSON to show, and the deliveries read from the outbound rows.
 */
import type Database from 'better-sqlite3';
import type { Result, ResultKind } from '../model/result';
import { containsPattern, opt, pageSize, searchKey } from './sql';
import type { Patient } from '../model/result';
import type { AssignedBy, AssignOutcome, DeliverySummary, DeviceLastResult, OutboundState, ResultPage, ResultQuery, ResultRow, UnmatchedQuery } from './types';

interface ResultRecord {
  seq: number;
  id: string;
  received_at: string;
  recorded_at: number;
  kind: ResultRow['kind'];
  site: string;
  device_id: string;
  patient_name: string | null;
  patient_id: string | null;
  specimen_id: string | null;
  observation_count: number;
  matched: number;
  inbound_id: string | null;
  json: string;
}

interface DeliveryRecord {
  id: number;
  result_id: string;
  destination: string;
  state: OutboundState;
  control_id: string;
  attempts: number;
  last_error: string | null;
  ack_code: string | null;
  created_at: number;
  first_sent_at: number | null;
  updated_at: number;
}

const COLUMNS = 'seq, id, received_at, recorded_at, kind, site, device_id, patient_name, patient_id, specimen_id, observation_count, matched, inbound_id, json';

/** Cursors are opaque to callers: base-36 of the last row's sequence number. */
function encodeCursor(seq: number): string {
  return seq.toString(36);
}

function decodeCursor(cursor: string): number | undefined {
  if (!/^[0-9a-z]{1,11}$/.test(cursor)) return undefined;
  return parseInt(cursor, 36);
}

function displayName(result: Result): string | undefined {
  const name = result.patient?.name;
  if (!name) return undefined;
  return [name.family, ...(name.given ?? [])].filter((part) => part).join(' ') || undefined;
}

export class ResultsIndex {
  private readonly upsert: Database.Statement;
  private readonly deliveries: Database.Statement;
  private readonly lists = new Map<string, Database.Statement>();
  private readonly byId: Database.Statement;
  private readonly unmatched: Database.Statement;
  private readonly unmatchedBefore: Database.Statement;
  private readonly unmatchedOfSpecimen: Database.Statement;
  private readonly unmatchedCount: Database.Statement;
  private readonly lastPerDevice: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.byId = db.prepare(`SELECT ${COLUMNS} FROM results WHERE id = ?`);
    // Held results: not matched, and never queued to any destination.
    const held = 'matched = 0 AND NOT EXISTS (SELECT 1 FROM outbound o WHERE o.result_id = results.id)';
    this.unmatched = db.prepare(`SELECT ${COLUMNS} FROM results INDEXED BY results_unmatched WHERE ${held} ORDER BY seq DESC LIMIT ?`);
    this.unmatchedBefore = db.prepare(`SELECT ${COLUMNS} FROM results INDEXED BY results_unmatched WHERE ${held} AND seq < ? ORDER BY seq DESC LIMIT ?`);
    this.unmatchedOfSpecimen = db.prepare(`SELECT ${COLUMNS} FROM results INDEXED BY results_specimen WHERE specimen_id = ? AND ${held} ORDER BY seq`);
    const fields = 'received_at, kind, site, device_id, patient_name, patient_id, patient_search, specimen_id, observation_count, matched, json';
    this.upsert = db.prepare(`INSERT INTO results (id, recorded_at, inbound_id, ${fields})
      VALUES (@id, @recorded_at, @inbound_id, @received_at, @kind, @site, @device_id, @patient_name, @patient_id, @patient_search, @specimen_id, @observation_count, @matched, @json)
      ON CONFLICT (id) DO UPDATE SET ${fields.split(', ').map((f) => `${f} = excluded.${f}`).join(', ')},
        inbound_id = coalesce(excluded.inbound_id, results.inbound_id)`);
    this.deliveries = db.prepare(`SELECT id, result_id, destination, state, control_id, attempts, last_error, ack_code, created_at, first_sent_at, updated_at
      FROM outbound WHERE result_id IN (SELECT value FROM json_each(?)) ORDER BY id`);
    this.unmatchedCount = db.prepare(`SELECT count(*) FROM results INDEXED BY results_unmatched WHERE ${held}`).pluck();
    // One pass over the device index for each device's newest row (start of the silent-device watch).
    this.lastPerDevice = db.prepare(`SELECT r.site, r.kind, r.device_id, r.recorded_at FROM results r
      JOIN (SELECT max(seq) AS seq FROM results INDEXED BY results_device GROUP BY device_id) newest ON r.seq = newest.seq`);
  }

  /** Upsert by result id: a result seen again keeps its place (and first record time) in the list. */
  record(result: Result, inboundId?: string): void {
    const identifiers = result.patient?.identifiers ?? [];
    const name = displayName(result);
    const search = [name, result.patient?.birthName, ...identifiers.map((i) => i.value)].filter((part) => part).join(' ');
    this.upsert.run({
      id: result.id,
      recorded_at: Date.now(),
      inbound_id: inboundId ?? result.raw?.journalId ?? null,
      received_at: result.times?.received ?? new Date().toISOString(),
      kind: result.kind,
      site: result.source.site,
      device_id: result.source.deviceId,
      patient_name: name ?? null,
      patient_id: identifiers[0]?.value ?? null,
      patient_search: search ? searchKey(search) : null,
      specimen_id: result.specimen?.id ?? null,
      observation_count: result.observations?.length ?? 0,
      matched: result.patient?.matched ? 1 : 0,
      json: JSON.stringify(result),
    });
  }

  list(query: ResultQuery): ResultPage {
    const limit = pageSize(query.limit);
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: limit + 1 };
    if (query.before !== undefined) {
      const before = decodeCursor(query.before);
      // A cursor we never gave out: an empty page ends the caller's paging loop.
      if (before === undefined) return { results: [] };
      where.push('seq < @before');
      params.before = before;
    }
    if (query.deviceId !== undefined) {
      where.push('device_id = @device');
      params.device = query.deviceId;
    }
    if (query.patient !== undefined && query.patient.trim() !== '') {
      where.push("patient_search LIKE @patient ESCAPE '\\'");
      params.patient = containsPattern(searchKey(query.patient.trim()));
    }
    const sql = `SELECT ${COLUMNS} FROM results${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
    let statement = this.lists.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.lists.set(sql, statement);
    }
    return this.page(statement.all(params) as ResultRecord[], limit);
  }

  get(id: string): Result | undefined {
    const row = this.byId.get(id) as ResultRecord | undefined;
    return row && (JSON.parse(row.json) as Result);
  }

  /** Results held for want of a patient (not matched, queued nowhere), newest first. */
  listUnmatched(query: UnmatchedQuery): ResultPage {
    const limit = pageSize(query.limit);
    if (query.before === undefined) return this.page(this.unmatched.all(limit + 1) as ResultRecord[], limit);
    const before = decodeCursor(query.before);
    if (before === undefined) return { results: [] };
    return this.page(this.unmatchedBefore.all(before, limit + 1) as ResultRecord[], limit);
  }

  /** Held results with this specimen id, oldest first. */
  unmatchedBySpecimen(specimenId: string): Result[] {
    return (this.unmatchedOfSpecimen.all(specimenId) as ResultRecord[]).map((row) => JSON.parse(row.json) as Result);
  }

  /** Gives a held result its patient (matched, by an order or a person) and stores it. */
  assignPatient(resultId: string, patient: Omit<Patient, 'matched' | 'matchedBy'> & Partial<Pick<Patient, 'matched' | 'matchedBy'>>, by: AssignedBy): AssignOutcome {
    const result = this.get(resultId);
    if (!result) return { status: 'not-found' };
    if (result.patient?.matched === true) return { status: 'already-matched', result };
    const updated: Result = { ...result, patient: { ...patient, matched: true, matchedBy: by } };
    this.record(updated);
    return { status: 'assigned', result: updated };
  }

  private page(records: ResultRecord[], limit: number): ResultPage {
    const more = records.length > limit;
    if (more) records.length = limit;
    const byResult = this.deliveriesOf(records.map((r) => r.id));
    const results = records.map((row): ResultRow => ({
      id: row.id,
      receivedAt: row.received_at,
      recordedAt: row.recorded_at,
      kind: row.kind,
      site: row.site,
      deviceId: row.device_id,
      patient: row.patient_name !== null || row.patient_id !== null ? { name: opt(row.patient_name), id: opt(row.patient_id) } : undefined,
      specimenId: opt(row.specimen_id),
      observationCount: row.observation_count,
      matched: row.matched === 1,
      inboundId: opt(row.inbound_id),
      result: JSON.parse(row.json) as Result,
      deliveries: byResult.get(row.id) ?? [],
    }));
    return more ? { results, next: encodeCursor(records[records.length - 1].seq) } : { results };
  }

  /** The deliveries of one result, oldest queued first. */
  deliveriesOfResult(resultId: string): DeliverySummary[] {
    return this.deliveriesOf([resultId]).get(resultId) ?? [];
  }

  /** Results held for want of a patient. */
  countUnmatched(): number {
    return this.unmatchedCount.get() as number;
  }

  lastResultPerDevice(): DeviceLastResult[] {
    return (this.lastPerDevice.all() as Array<{ site: string; kind: ResultKind; device_id: string; recorded_at: number }>)
      .map((row) => ({ site: row.site, kind: row.kind, deviceId: row.device_id, recordedAt: row.recorded_at }));
  }

  private deliveriesOf(resultIds: string[]): Map<string, DeliverySummary[]> {
    const byResult = new Map<string, DeliverySummary[]>();
    if (resultIds.length === 0) return byResult;
    for (const row of this.deliveries.all(JSON.stringify(resultIds)) as DeliveryRecord[]) {
      const list = byResult.get(row.result_id) ?? [];
      list.push({
        outboundId: row.id,
        destination: row.destination,
        state: row.state,
        controlId: row.control_id,
        attempts: row.attempts,
        lastError: opt(row.last_error),
        ackCode: opt(row.ack_code),
        queuedAt: row.created_at,
        sentAt: opt(row.first_sent_at),
        updatedAt: row.updated_at,
      });
      byResult.set(row.result_id, list);
    }
    return byResult;
  }
}
