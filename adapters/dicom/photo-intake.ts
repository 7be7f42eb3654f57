/**
 * How a cart's photo or report enters the hub. Its companion (passerelle.photo/1, JSON) and its
 * bytes arrive as two MQTT messages on one topic, in either order, paired by the bytes' SHA-256
 * that the companion carries; from a folder or a wire they come together. Each half is journaled
 * with its raw bytes before it is acknowledged; a half waiting for the other is in the journal
 * too, so a restart finds it again (restore). A complete pair becomes a Part 10 file
 * (photo-file.ts) and, in one commit, its imaging event (journal.ts, the outbox) and a "paired"
 * entry that closes both halves. Bad input is journaled as rejected and thrown as PhotoRefusedError.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../journal';
import { parseTopic } from '../model';
import { InvalidJpegError } from './jpeg';
import { journalStored, type JournaledEvent } from './journal';
import { keepCartObject } from './photo-file';
import { InvalidPhotoError, parsePhotoCompanion, PHOTO_CONTENT_TYPE, type PhotoCompanion } from './photo-contract';
import type { PhotoOptions } from './photo';
import { patientOf } from '../vitals/cart';

/** Closes a pair (stored or refused): its raw is { sha256, companion, bytes, event? } (journal ids). */
export const PHOTO_PAIRED_CONTENT_TYPE = 'application/vnd.passerelle.photo-paired+json';
const BYTES_CONTENT_TYPES = ['image/jpeg', 'application/pdf'];
/** Halves looked for at start: the channel's latest entries. */
const RESTORE_LIMIT = 1000;

export interface PhotoIntakeOptions extends Pick<PhotoOptions, 'site' | 'timeZone' | 'dermoscopy'> {
  store: Store;
  /** The node's journal channel (photo:<node id>): halves, events and pairs. */
  channel: string;
  /** Where the Part 10 files go. */
  dir: string;
  aeTitle: string;
}

/** Input refused: journaled as rejected (journalId), the reason says what and where, never who. */
export class PhotoRefusedError extends Error {
  constructor(readonly journalId: string, readonly reason: string, readonly peer: string) {
    super(reason);
    this.name = 'PhotoRefusedError';
  }
}

export type IntakeOutcome = { stored: JournaledEvent } | { waiting: 'companion' | 'bytes' };

interface Half<T> {
  journalId: string;
  peer: string;
  value: T;
  /** When it was journaled (ms): a half waiting too long for the other is reported, once. */
  since: number;
  reported?: boolean;
}

/** A half still waiting for the other after the delay given to orphans(). */
export interface Orphan {
  journalId: string;
  peer: string;
  waiting: 'companion' | 'bytes';
  sinceMs: number;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const looksLikeJson = (bytes: Buffer) => /^\s*\{/.test(bytes.subarray(0, 64).toString('latin1'));
const contentTypeOf = (bytes: Buffer) => (bytes.subarray(0, 5).toString('latin1') === '%PDF-' ? 'application/pdf' : 'image/jpeg');

export class PhotoIntake {
  private readonly companions = new Map<string, Half<PhotoCompanion>>();
  private readonly bytes = new Map<string, Half<Buffer>>();

  constructor(private readonly options: PhotoIntakeOptions) {}

  /** How many halves wait for the other. */
  get waiting(): number {
    return this.companions.size + this.bytes.size;
  }

  /** Finds the halves a previous run journaled and did not pair; returns the pairs that are complete (to finish). */
  restore(): string[] {
    const entries = this.options.store.listInbound({ channel: this.options.channel, limit: RESTORE_LIMIT }).reverse();
    for (const entry of entries) {
      if (entry.contentType === PHOTO_PAIRED_CONTENT_TYPE) {
        const { sha256: sha } = JSON.parse(entry.raw.toString('utf8')) as { sha256: string };
        this.companions.delete(sha);
        this.bytes.delete(sha);
      } else if (entry.status === 'accepted' && entry.contentType === PHOTO_CONTENT_TYPE) {
        const companion = JSON.parse(entry.raw.toString('utf8')) as PhotoCompanion;
        if (companion.sha256) this.companions.set(companion.sha256.toLowerCase(), { journalId: entry.id, peer: entry.peer ?? '', value: companion, since: entry.receivedAt });
      } else if (entry.status === 'accepted' && BYTES_CONTENT_TYPES.includes(entry.contentType)) {
        this.bytes.set(sha256(entry.raw), { journalId: entry.id, peer: entry.peer ?? '', value: entry.raw, since: entry.receivedAt });
      }
    }
    return [...this.companions.keys()].filter((sha) => this.bytes.has(sha));
  }

  /** Pairs a restored complete pair (see restore). */
  finish(sha: string, receivedAt = new Date()): Promise<IntakeOutcome> {
    const companion = this.companions.get(sha)!;
    const bytes = this.bytes.get(sha)!;
    return this.pair(sha, companion, bytes, receivedAt);
  }

  /** One MQTT message of passerelle/v1/<site>/cart/<cart>/photo: a companion (JSON) or the bytes. */
  async fromMqtt(topic: string, payload: Buffer, receivedAt = new Date()): Promise<IntakeOutcome> {
    const peer = `mqtt:${topic}`;
    const cartId = parseTopic(topic)?.source;
    const { store, channel } = this.options;
    if (looksLikeJson(payload)) {
      let companion: PhotoCompanion;
      try {
        companion = parsePhotoCompanion(payload, { cartId, now: receivedAt });
        if (!companion.sha256) throw new InvalidPhotoError(['/sha256 is needed on MQTT: it pairs the companion with its bytes']);
      } catch (err) {
        throw this.refused(err, payload, PHOTO_CONTENT_TYPE, peer);
      }
      const sha = companion.sha256.toLowerCase();
      const journalId = store.journalInbound({ channel, peer, contentType: PHOTO_CONTENT_TYPE, raw: payload, status: 'accepted' });
      const half = { journalId, peer, value: companion, since: receivedAt.getTime() };
      this.companions.set(sha, half);
      const bytes = this.bytes.get(sha);
      return bytes ? this.pair(sha, half, bytes, receivedAt) : { waiting: 'bytes' };
    }
    const sha = sha256(payload);
    const contentType = contentTypeOf(payload);
    if (payload.subarray(0, 2).toString('hex') !== 'ffd8' && contentType !== 'application/pdf') {
      throw this.refused(new InvalidJpegError('not-jpeg', 'the binary message is neither a JPEG (FF D8) nor a PDF (%PDF-), nor a JSON companion', 0), payload, 'application/octet-stream', peer);
    }
    const journalId = store.journalInbound({ channel, peer, contentType, raw: payload, status: 'accepted' });
    const half = { journalId, peer, value: payload, since: receivedAt.getTime() };
    this.bytes.set(sha, half);
    const companion = this.companions.get(sha);
    return companion ? this.pair(sha, companion, half, receivedAt) : { waiting: 'companion' };
  }

  /** A companion and its bytes together (a watched folder's pair, a wire's message). */
  async together(companionRaw: Buffer, payload: Buffer, peer: string, receivedAt = new Date()): Promise<IntakeOutcome> {
    const { store, channel } = this.options;
    let companion: PhotoCompanion;
    try {
      companion = parsePhotoCompanion(companionRaw, { now: receivedAt });
    } catch (err) {
      this.refused(err, payload, contentTypeOf(payload), peer);
      throw this.refused(err, companionRaw, PHOTO_CONTENT_TYPE, peer);
    }
    const sha = sha256(payload);
    if (companion.sha256 && companion.sha256.toLowerCase() !== sha) {
      const mismatch = new InvalidPhotoError([`/sha256 is ${companion.sha256} but the bytes' SHA-256 is ${sha}`]);
      this.refused(mismatch, companionRaw, PHOTO_CONTENT_TYPE, peer);
      throw this.refused(mismatch, payload, contentTypeOf(payload), peer);
    }
    // Journaled before anything else, so a failure to write the file leaves them for the next try.
    const halves = store.transaction(() => ({
      companion: { journalId: store.journalInbound({ channel, peer, contentType: PHOTO_CONTENT_TYPE, raw: companionRaw, status: 'accepted' }), peer, value: companion, since: receivedAt.getTime() },
      bytes: { journalId: store.journalInbound({ channel, peer, contentType: companion.contentType, raw: payload, status: 'accepted' }), peer, value: payload, since: receivedAt.getTime() },
    }));
    return this.pair(sha, halves.companion, halves.bytes, receivedAt);
  }

  /** Both halves are journaled: the file, then its event and the pair's closing entry in one commit. */
  private async pair(sha: string, companion: Half<PhotoCompanion>, bytes: Half<Buffer>, receivedAt: Date): Promise<IntakeOutcome> {
    const { store, channel } = this.options;
    const closing = { sha256: sha, companion: companion.journalId, bytes: bytes.journalId };
    let kept;
    try {
      kept = await keepCartObject(bytes.value, companion.value, { ...this.options, receivedAt, peer: bytes.peer });
    } catch (err) {
      if (!(err instanceof InvalidJpegError) && !(err instanceof InvalidPhotoError)) throw err;
      this.forget(sha);
      const reason = err.message;
      const journalId = store.journalInbound({ channel, peer: bytes.peer, contentType: PHOTO_PAIRED_CONTENT_TYPE, raw: Buffer.from(JSON.stringify(closing)), status: 'rejected', error: reason });
      throw new PhotoRefusedError(journalId, reason, bytes.peer);
    }
    const stored = store.transaction(() => {
      const journaled = journalStored(store, kept.stored, { channel, site: this.options.site, timeZone: this.options.timeZone, deviceId: companion.value.cart.id,
        cart: { patient: patientOf(companion.value.patient), encounter: { id: companion.value.teleconsultation.id, ...(companion.value.teleconsultation.room ? { location: companion.value.teleconsultation.room } : {}) } },
      });
      store.journalInbound({ channel, peer: bytes.peer, contentType: PHOTO_PAIRED_CONTENT_TYPE, raw: Buffer.from(JSON.stringify({ ...closing, event: journaled.event.id })), status: 'accepted', resultId: journaled.event.id });
      return journaled;
    });
    this.forget(sha);
    return { stored };
  }

  /**
   * Halves waiting longer than `olderThanMs` and not reported yet (each is reported once). They
   * stay pending: the other half may still come.
   */
  orphans(olderThanMs: number, now = Date.now()): Orphan[] {
    const found: Orphan[] = [];
    const look = (halves: Map<string, Half<unknown>>, waiting: Orphan['waiting']) => {
      for (const half of halves.values()) {
        if (half.reported || now - half.since < olderThanMs) continue;
        half.reported = true;
        found.push({ journalId: half.journalId, peer: half.peer, waiting, sinceMs: now - half.since });
      }
    };
    look(this.companions, 'bytes');
    look(this.bytes, 'companion');
    return found;
  }

  private forget(sha: string): void {
    this.companions.delete(sha);
    this.bytes.delete(sha);
  }

  /** Journals refused bytes with the reason and returns the error to throw. */
  private refused(err: unknown, raw: Buffer, contentType: string, peer: string): PhotoRefusedError {
    if (!(err instanceof InvalidJpegError) && !(err instanceof InvalidPhotoError)) throw err;
    const journalId = this.options.store.journalInbound({ channel: this.options.channel, peer, contentType, raw, status: 'rejected', error: err.message });
    return new PhotoRefusedError(journalId, err.message, peer);
  }
}
