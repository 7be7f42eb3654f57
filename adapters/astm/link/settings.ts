/**
 * Link settings. Every timer of E1381 is here, so a device profile can change any of them (some
 * Roche analysers give up after 15 s instead of 30 s, for instance).
 */
import { DEFAULT_MAX_FRAME_TEXT } from './frame';

export type LinkSide = 'computer' | 'instrument';

export interface LinkSettings {
  /** Who we are on this line. On contention (both send ENQ) the instrument wins. */
  side: LinkSide;
  /** Sender: wait this long for the reply to ENQ or to a frame (E1381: 15 s). */
  replyTimeoutMs: number;
  /** Receiver: give up on a transfer after this much silence (E1381: 30 s; some Roche devices: 15 s). */
  receiveTimeoutMs: number;
  /** Sender: after a NAK to ENQ (receiver busy) or no reply to ENQ, wait this long before ENQ again (E1381: at least 10 s). */
  busyRetryMs: number;
  /** Computer: after contention, wait this long before bidding again (E1381: 20 s). */
  contentionMs: number;
  /** Instrument: after contention, wait this long before sending ENQ again (E1381: at least 1 s). */
  instrumentContentionMs: number;
  /** Sender: after honouring a receiver interrupt, no ENQ for this long (E1381: 15 s). */
  interruptHoldMs: number;
  /** Sender: largest text per frame; longer records are split across ETB frames (1995 edition: 240). */
  maxFrameText: number;
  /** Receiver: largest frame text accepted (later editions: 64,000). */
  maxReceiveFrame: number;
  /** Receiver: largest message kept; a longer transfer is discarded and reported. */
  maxMessageBytes: number;
  /** Sender: a frame refused this many times aborts the transfer (E1381: 6). */
  maxRefusals: number;
  /** Sender: ENQ attempts (refused or unanswered) before the message is given up; 0 = never give up. */
  maxBids: number;
  /** Sender: honour a receiver interrupt (EOT in reply to a frame) by stopping. */
  honourInterrupt: boolean;
  /**
   * Receiver: 'strict' refuses a frame whose number is neither the last accepted nor the next
   * (E1381). 'lenient' accepts any number and treats only an identical repeat of the last frame as
   * a duplicate: for devices or capture tools that renumber frames (one real capture goes 5, 1, 1, 1, 4).
   */
  frameNumbers: 'strict' | 'lenient';
}

export const DEFAULT_LINK_SETTINGS: Readonly<LinkSettings> = Object.freeze({
  side: 'computer',
  replyTimeoutMs: 15_000,
  receiveTimeoutMs: 30_000,
  busyRetryMs: 10_000,
  contentionMs: 20_000,
  instrumentContentionMs: 1_000,
  interruptHoldMs: 15_000,
  maxFrameText: DEFAULT_MAX_FRAME_TEXT,
  maxReceiveFrame: 64_000,
  maxMessageBytes: 16 * 1024 * 1024,
  maxRefusals: 6,
  maxBids: 6,
  honourInterrupt: true,
  frameNumbers: 'strict',
});

const TIMERS = ['replyTimeoutMs', 'receiveTimeoutMs', 'busyRetryMs', 'contentionMs', 'instrumentContentionMs', 'interruptHoldMs'] as const;
const COUNTS = ['maxFrameText', 'maxReceiveFrame', 'maxMessageBytes', 'maxRefusals'] as const;

/** Defaults overlaid with the given settings; throws RangeError naming the first bad one. */
export function resolveLinkSettings(overrides: Partial<LinkSettings> = {}): LinkSettings {
  const settings: LinkSettings = { ...DEFAULT_LINK_SETTINGS };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in DEFAULT_LINK_SETTINGS)) throw new RangeError(`unknown link setting ${key}`);
    if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
  }
  for (const key of TIMERS) {
    if (!Number.isFinite(settings[key]) || settings[key] < 0) throw new RangeError(`link setting ${key} must be a number of milliseconds ≥ 0`);
  }
  for (const key of COUNTS) {
    if (!Number.isInteger(settings[key]) || settings[key] < 1) throw new RangeError(`link setting ${key} must be a positive integer`);
  }
  if (!Number.isInteger(settings.maxBids) || settings.maxBids < 0) throw new RangeError('link setting maxBids must be an integer ≥ 0');
  if (settings.side !== 'computer' && settings.side !== 'instrument') throw new RangeError("link setting side must be 'computer' or 'instrument'");
  if (settings.frameNumbers !== 'strict' && settings.frameNumbers !== 'lenient') throw new RangeError("link setting frameNumbers must be 'strict' or 'lenient'");
  if (typeof settings.honourInterrupt !== 'boolean') throw new RangeError('link setting honourInterrupt must be true or false');
  return settings;
}
