/**
 * The orders index: one row per order the record sent (per specimen when the order names one),
 * with the order's patient, so a result that carries only a specimen id finds its patient.
 */
import type Database from 'better-sqlite3';
import type { Code, Patient } from '../model/result';
import { opt } from './sql';
import type { IndexedOrder, OrderInput } from './types';

interface OrderRecord {
  specimen_id: string | null;
  placer_number: string | null;
  filler_number: string | null;
  accession_number: string | null;
  order_code: string | null;
  ordered_at: string | null;
  source_journal_id: string | null;
  indexed_at: number;
  patient_json: string;
}

const COLUMNS = 'specimen_id, placer_number, filler_number, accession_number, order_code, ordered_at, source_journal_id, indexed_at, patient_json';

function toOrder(row: OrderRecord): IndexedOrder {
  const order: IndexedOrder = { patient: JSON.parse(row.patient_json) as Patient, indexedAt: row.indexed_at };
  if (row.specimen_id !== null) order.specimenId = row.specimen_id;
  if (row.placer_number !== null) order.placerNumber = row.placer_number;
  if (row.filler_number !== null) order.fillerNumber = row.filler_number;
  if (row.accession_number !== null) order.accessionNumber = row.accession_number;
  if (row.order_code !== null) order.orderCode = JSON.parse(row.order_code) as Code;
  if (row.ordered_at !== null) order.orderedAt = row.ordered_at;
  const journalId = opt(row.source_journal_id);
  if (journalId !== undefined) order.sourceJournalId = journalId;
  return order;
}

function nonEmpty(value: string | undefined): string | null {
  return value !== undefined && value.trim() !== '' ? value.trim() : null;
}

export class OrdersIndex {
  private readonly upsert: Database.Statement;
  private readonly bySpecimen: Database.Statement;
  private readonly byPlacer: Database.Statement;

  constructor(db: Database.Database) {
    const kept = ['specimen_id', 'placer_number', 'filler_number', 'accession_number', 'order_code', 'ordered_at', 'source_journal_id'];
    // An order seen again (a status update, a correction) replaces what it says, keeps what it leaves out.
    this.upsert = db.prepare(`INSERT INTO orders (order_key, ${COLUMNS})
      VALUES (@order_key, @specimen_id, @placer_number, @filler_number, @accession_number, @order_code, @ordered_at, @source_journal_id, @indexed_at, @patient_json)
      ON CONFLICT (order_key) DO UPDATE SET ${kept.map((f) => `${f} = coalesce(excluded.${f}, orders.${f})`).join(', ')},
        indexed_at = excluded.indexed_at, patient_json = excluded.patient_json`);
    this.bySpecimen = db.prepare(`SELECT ${COLUMNS} FROM orders INDEXED BY orders_specimen WHERE specimen_id = ? ORDER BY indexed_at DESC, seq DESC LIMIT 1`);
    this.byPlacer = db.prepare(`SELECT ${COLUMNS} FROM orders INDEXED BY orders_placer WHERE placer_number = ? ORDER BY indexed_at DESC, seq DESC LIMIT 1`);
  }

  /** Upsert by specimen id, or by placer number for an order without one. */
  index(order: OrderInput, now: number): IndexedOrder {
    const specimenId = nonEmpty(order.specimenId);
    const placerNumber = nonEmpty(order.placerNumber);
    if (specimenId === null && placerNumber === null) throw new TypeError('an order needs a specimen id or a placer number');
    if (!order.patient || !Array.isArray(order.patient.identifiers) || order.patient.identifiers.length === 0) {
      throw new TypeError('an order needs a patient with at least one identifier');
    }
    this.upsert.run({
      order_key: specimenId ?? `placer:${placerNumber}`,
      specimen_id: specimenId,
      placer_number: placerNumber,
      filler_number: nonEmpty(order.fillerNumber),
      accession_number: nonEmpty(order.accessionNumber),
      order_code: order.orderCode ? JSON.stringify(order.orderCode) : null,
      ordered_at: order.orderedAt ?? null,
      source_journal_id: order.sourceJournalId ?? null,
      indexed_at: now,
      patient_json: JSON.stringify(order.patient),
    });
    return (specimenId !== null ? this.findBySpecimen(specimenId) : this.findByPlacer(placerNumber!))!;
  }

  findBySpecimen(specimenId: string): IndexedOrder | undefined {
    const row = this.bySpecimen.get(specimenId.trim()) as OrderRecord | undefined;
    return row && toOrder(row);
  }

  findByPlacer(placerNumber: string): IndexedOrder | undefined {
    const row = this.byPlacer.get(placerNumber.trim()) as OrderRecord | undefined;
    return row && toOrder(row);
  }
}
