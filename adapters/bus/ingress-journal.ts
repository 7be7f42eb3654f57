import type { ClassicLevel } from 'classic-level';
import type { AbstractSublevel } from 'abstract-level';

/**
 * Why this exists: aedes 1.2 answers a QoS 1 PUBLISH by writing the PUBACK first and only then
 * running broker.publish() (lib/handlers/publish.js), which queues the message for offline
 * persistent sessions. A kill -9 between the two loses messages the publisher was told are safe
 * (measured: 100+ of 300 lost). So the broker's authorizePublish hook, which runs before the
 * PUBACK is written, records each accepted QoS>0 message here; the `published` hook, which runs
 * after aedes has queued it, forgets it; at start-up what is left is published again.
 * Repeats are possible (crash after queueing, before forgetting): delivery is at-least-once.
 */
export interface JournalEntry {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
}

type Sub = AbstractSublevel<ClassicLevel<string, Buffer>, string | Buffer | Uint8Array, string, string>;

export class IngressJournal {
  private readonly sub: Sub;
  private readonly prefix: string;
  private counter = 0;
  private pending: Array<{ key: string; value: string; done: (err?: Error) => void }> = [];
  private writing: Promise<void> | undefined;
  private readonly forgetting = new Set<Promise<void>>();

  constructor(db: ClassicLevel<string, Buffer>) {
    this.sub = db.sublevel<string, string>('passerelle-ingress', { valueEncoding: 'utf8' }) as Sub;
    // keys sort by start time, then arrival: replay keeps the order messages were accepted in
    this.prefix = Date.now().toString(16).padStart(12, '0');
  }

  /** Resolves once the entry is written; returns its key (for forget()). */
  record(entry: JournalEntry): Promise<string> {
    const key = `${this.prefix}-${(this.counter++).toString(16).padStart(12, '0')}`;
    const value = JSON.stringify({ ...entry, payload: entry.payload.toString('base64') });
    return new Promise((resolve, reject) => {
      this.pending.push({ key, value, done: (err) => (err ? reject(err) : resolve(key)) });
      if (!this.writing) this.writing = this.flush();
    });
  }

  /** Group commit: whatever arrived while a batch was being written goes into the next one. */
  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.sub.batch(batch.map((e) => ({ type: 'put' as const, key: e.key, value: e.value })));
        for (const e of batch) e.done();
      } catch (err) {
        for (const e of batch) e.done(err as Error);
      }
    }
    this.writing = undefined;
  }

  forget(key: string): Promise<void> {
    const p = this.sub.del(key).finally(() => this.forgetting.delete(p));
    this.forgetting.add(p);
    return p;
  }

  /** Entries left by a previous run, oldest first. */
  async *leftovers(): AsyncGenerator<{ key: string; entry: JournalEntry }> {
    for await (const [key, value] of this.sub.iterator()) {
      const raw = JSON.parse(value) as Omit<JournalEntry, 'payload'> & { payload: string };
      yield { key, entry: { ...raw, payload: Buffer.from(raw.payload, 'base64') } };
    }
  }

  /** Waits for writes in flight, so the database can be closed under them. */
  async settle(): Promise<void> {
    while (this.writing || this.forgetting.size > 0) {
      await this.writing;
      await Promise.allSettled([...this.forgetting]);
    }
  }
}
