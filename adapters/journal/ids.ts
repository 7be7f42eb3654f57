/**
 * Identifiers minted by the store.
 *
 * Inbound ids are ULID-shaped (26 Crockford base-32 characters: 10 of time, 16 of randomness),
 * so they sort by arrival and a time can be turned into an id range for retention.
 *
 * Control ids go into MSH-10 (HL7 v2.5 ST, at most 20 characters):
 * 'P' + 8 base-36 time + 4 base-36 store tag + 3 base-36 counter = 16 characters. The tag is
 * random per store directory, so two hubs writing to the same record do not collide.
 */
import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;

function encodeTime(ms: number): string {
  let out = '';
  let rest = Math.max(0, Math.floor(ms));
  for (let i = 0; i < TIME_CHARS; i++) {
    out = CROCKFORD[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/** The smallest inbound id minted at `ms`: every id below it is older. */
export function inboundIdFloor(ms: number): string {
  return encodeTime(ms) + '0'.repeat(RANDOM_CHARS);
}

/** The time (ms) an inbound id was minted at. */
export function inboundIdTime(id: string): number {
  let ms = 0;
  for (let i = 0; i < TIME_CHARS; i++) ms = ms * 32 + CROCKFORD.indexOf(id[i]);
  return ms;
}

/** Monotonic within the process: same millisecond, the random part is incremented. */
export class InboundIdGenerator {
  private lastMs = -1;
  private random: number[] = [];

  next(now = Date.now()): string {
    if (now > this.lastMs) {
      this.lastMs = now;
      this.random = Array.from(randomBytes(RANDOM_CHARS), (b) => b & 31);
      // Leave headroom so increments within one millisecond do not carry into the time.
      this.random[0] &= 15;
    } else {
      this.increment();
    }
    return encodeTime(this.lastMs) + this.random.map((d) => CROCKFORD[d]).join('');
  }

  private increment(): void {
    for (let i = RANDOM_CHARS - 1; i >= 0; i--) {
      if (this.random[i] < 31) {
        this.random[i]++;
        return;
      }
      this.random[i] = 0;
    }
    // 2^79 ids in one millisecond: move to the next one instead of wrapping.
    this.lastMs++;
  }
}

export const CONTROL_ID_MAX_LENGTH = 20;
const CONTROL_TIME_CHARS = 8;
const CONTROL_COUNTER_CHARS = 3;
const CONTROL_COUNTER_LIMIT = 36 ** CONTROL_COUNTER_CHARS;
export const STORE_TAG_CHARS = 4;

export function newStoreTag(): string {
  return (randomBytes(4).readUInt32BE(0) % 36 ** STORE_TAG_CHARS).toString(36).toUpperCase().padStart(STORE_TAG_CHARS, '0');
}

/** The time part of a control id minted by this scheme, or undefined for a foreign one. */
export function controlIdTime(controlId: string): number | undefined {
  if (!/^P[0-9A-Z]{15}$/.test(controlId)) return undefined;
  return parseInt(controlId.slice(1, 1 + CONTROL_TIME_CHARS), 36);
}

export class ControlIdGenerator {
  private lastMs = -1;
  private counter = 0;

  constructor(private readonly tag: string) {}

  /** Never mint at or below a time already used (after a restart, or a clock set back). */
  advancePast(ms: number): void {
    if (ms >= this.lastMs) {
      this.lastMs = ms;
      this.counter = CONTROL_COUNTER_LIMIT - 1;
    }
  }

  /** The highest time used so far, to persist as a high-water mark. */
  get highWater(): number {
    return this.lastMs;
  }

  next(now = Date.now()): string {
    if (now > this.lastMs) {
      this.lastMs = now;
      this.counter = 0;
    } else if (++this.counter >= CONTROL_COUNTER_LIMIT) {
      this.lastMs++;
      this.counter = 0;
    }
    return 'P'
      + this.lastMs.toString(36).toUpperCase().padStart(CONTROL_TIME_CHARS, '0')
      + this.tag
      + this.counter.toString(36).toUpperCase().padStart(CONTROL_COUNTER_CHARS, '0');
  }
}
