/**
 * The store's schema, as numbered migrations recorded in schema_migrations. A migration runs
 * once, in a transaction with its record; a database newer than this code is refused rather
 * than guessed at.
 */
import type Database from 'better-sqlite3';

interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The live (not final) states, as the partial index says it: queries repeat it verbatim to use
 * the index. An OR, not 'state IN (...)': SQLite builds a throw-away table for every IN list,
 * which costs ten times the lookup itself on the hot path.
 */
export const LIVE_STATES_SQL = "(state = 'pending' OR state = 'sent' OR state = 'waiting')";

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'journal, outbound queues, results index',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

      -- Raw bytes last: queries that do not need them stop before the overflow pages.
      CREATE TABLE inbound (
        id TEXT PRIMARY KEY,
        received_at INTEGER NOT NULL,
        channel TEXT NOT NULL,
        peer TEXT,
        content_type TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status = 'accepted' OR status = 'rejected'),
        error TEXT,
        result_id TEXT,
        publish_topic TEXT,
        published_at INTEGER,
        raw BLOB NOT NULL
      );
      -- The outbox: tiny, since entries leave it once published.
      CREATE INDEX inbound_unpublished ON inbound (id) WHERE publish_topic IS NOT NULL AND published_at IS NULL;
      -- Rejected input is rare and is what people look for.
      CREATE INDEX inbound_rejected ON inbound (id) WHERE status = 'rejected';

      -- AUTOINCREMENT: an id is never reused after retention deletes the newest rows.
      CREATE TABLE outbound (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        destination TEXT NOT NULL,
        dedupe_key TEXT NOT NULL,
        control_id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL CHECK (state = 'pending' OR state = 'sent' OR state = 'waiting' OR state = 'accepted' OR state = 'dead'),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        sent_at INTEGER,
        result_id TEXT,
        inbound_id TEXT,
        content_type TEXT NOT NULL,
        last_error TEXT,
        ack_code TEXT,
        ack_raw BLOB,
        payload BLOB NOT NULL
      );
      CREATE UNIQUE INDEX outbound_dedupe ON outbound (destination, dedupe_key);
      -- The queues proper: only live rows, so nextDue reads a handful of entries.
      CREATE INDEX outbound_live ON outbound (destination, id) WHERE ${LIVE_STATES_SQL};
      -- Dead letters: counted per destination for every status update, listed for people.
      CREATE INDEX outbound_dead ON outbound (destination, id) WHERE state = 'dead';
      CREATE INDEX outbound_result ON outbound (result_id) WHERE result_id IS NOT NULL;

      CREATE TABLE results (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        received_at TEXT NOT NULL,
        recorded_at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        site TEXT NOT NULL,
        device_id TEXT NOT NULL,
        patient_name TEXT,
        patient_id TEXT,
        patient_search TEXT,
        specimen_id TEXT,
        observation_count INTEGER NOT NULL,
        matched INTEGER NOT NULL,
        inbound_id TEXT,
        json TEXT NOT NULL
      );
      CREATE INDEX results_device ON results (device_id, seq);
    `,
  },
  {
    version: 2,
    name: 'orders index, unmatched results',
    sql: `
      -- One row per order (per specimen when the order names one): how a result that carries
      -- only a specimen id finds its patient. order_key is the specimen id, or 'placer:' + the
      -- placer number for an order without a specimen id.
      CREATE TABLE orders (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        order_key TEXT NOT NULL UNIQUE,
        specimen_id TEXT,
        placer_number TEXT,
        filler_number TEXT,
        accession_number TEXT,
        order_code TEXT,
        ordered_at TEXT,
        source_journal_id TEXT,
        indexed_at INTEGER NOT NULL,
        patient_json TEXT NOT NULL
      );
      CREATE INDEX orders_specimen ON orders (specimen_id) WHERE specimen_id IS NOT NULL;
      CREATE INDEX orders_placer ON orders (placer_number) WHERE placer_number IS NOT NULL;
      CREATE INDEX orders_indexed ON orders (indexed_at);
      -- Results held for want of a patient: the list people work from, and the late-order lookup.
      CREATE INDEX results_unmatched ON results (seq) WHERE matched = 0;
      CREATE INDEX results_specimen ON results (specimen_id) WHERE specimen_id IS NOT NULL;
    `,
  },
  {
    version: 3,
    name: 'first send time, metric points queue',
    sql: `
      -- sent_at is the latest send; turnaround needs the first one (received -> first sent).
      ALTER TABLE outbound ADD COLUMN first_sent_at INTEGER;
      UPDATE outbound SET first_sent_at = sent_at WHERE sent_at IS NOT NULL;

      -- Points for InfluxDB waiting to be written, per writer (channel): deleted once InfluxDB
      -- answered 2xx; a point it refused (400) is set aside with the error, kept to be looked at.
      CREATE TABLE metric_points (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL,
        queued_at INTEGER NOT NULL,
        set_aside_at INTEGER,
        error TEXT,
        point TEXT NOT NULL
      );
      CREATE INDEX metric_points_waiting ON metric_points (channel, id) WHERE set_aside_at IS NULL;
      CREATE INDEX metric_points_set_aside ON metric_points (channel, id) WHERE set_aside_at IS NOT NULL;
    `,
  },
  {
    version: 4,
    name: 'imaging: worklist steps, performed steps, studies',
    sql: `
      -- The modality worklist: one row per scheduled procedure step of an imaging order
      -- (step_key: accession number + '/' + step id); a cancelled order's rows and the steps
      -- MPPS says were completed leave it.
      CREATE TABLE imaging_steps (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        step_key TEXT NOT NULL UNIQUE,
        accession_number TEXT NOT NULL,
        placer_number TEXT,
        status TEXT NOT NULL CHECK (status = 'scheduled' OR status = 'cancelled' OR status = 'performed'),
        details TEXT NOT NULL,
        source_journal_id TEXT,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX imaging_steps_scheduled ON imaging_steps (seq) WHERE status = 'scheduled';
      CREATE INDEX imaging_steps_accession ON imaging_steps (accession_number);
      CREATE INDEX imaging_steps_placer ON imaging_steps (placer_number) WHERE placer_number IS NOT NULL;

      -- MPPS instances: an N-SET names only the instance, this says whose exam it is.
      CREATE TABLE performed_steps (
        mpps_uid TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        device_id TEXT NOT NULL,
        accession_number TEXT,
        study_uid TEXT,
        details TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      -- Each study on its way to the record's notification.
      CREATE TABLE imaging_studies (
        study_uid TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        accession_number TEXT,
        images INTEGER NOT NULL DEFAULT 0,
        first_image_at INTEGER,
        last_image_at INTEGER,
        performed_status TEXT,
        notified_at INTEGER,
        result_id TEXT,
        details TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX imaging_studies_waiting ON imaging_studies (last_image_at) WHERE notified_at IS NULL;
    `,
  },
  {
    version: 5,
    name: 'storage commitment',
    sql: `
      -- Per object the PACS accepted (its outbound message): whether the PACS committed to keep it.
      -- resent: the PACS failed it and it is being stored again (then it waits anew).
      CREATE TABLE storage_commitments (
        outbound_id INTEGER PRIMARY KEY,
        destination TEXT NOT NULL,
        sop_class_uid TEXT NOT NULL,
        sop_instance_uid TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state = 'waiting' OR state = 'requested' OR state = 'resent' OR state = 'committed' OR state = 'failed'),
        transaction_uid TEXT,
        requests INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL,
        reason TEXT
      );
      CREATE INDEX storage_commitments_open ON storage_commitments (destination, outbound_id) WHERE state = 'waiting' OR state = 'requested';
      CREATE INDEX storage_commitments_transaction ON storage_commitments (transaction_uid) WHERE state = 'requested';
      -- Retention forgets a delivered message: its commitment goes with it.
      CREATE TRIGGER storage_commitments_pruned AFTER DELETE ON outbound BEGIN
        DELETE FROM storage_commitments WHERE outbound_id = old.id;
      END;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export class SchemaTooNewError extends Error {
  constructor(found: number) {
    super(`the journal database is at schema version ${found}, newer than this Passerelle knows (${SCHEMA_VERSION}): upgrade Passerelle or point it at another data directory`);
    this.name = 'SchemaTooNewError';
  }
}

export function migrate(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const current = (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
  if (current > SCHEMA_VERSION) throw new SchemaTooNewError(current);
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, Date.now());
    }).immediate();
  }
}
