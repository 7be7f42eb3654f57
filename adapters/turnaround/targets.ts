/**
 * Turnaround targets, as data: per kind, an interval and a default target in seconds, and
 * targets per exam code within the kind. Biology: 20 minutes on collected → accepted by default.
 * A kind or exam without a target gets none: never another interval, never a guess.
 */
import type { ResultKind } from '../model/result';
import { INTERVALS, type IntervalName } from './intervals';

export interface KindTargets {
  /** The interval the target applies to; collected_to_accepted_s when absent. */
  interval?: IntervalName;
  /** Seconds, for every exam of the kind without its own target. */
  default?: number;
  /** Seconds, by exam code (the `exam` tag: order code, else first observation's code). */
  exams?: Record<string, number>;
}

export type Targets = Partial<Record<ResultKind, KindTargets>>;

export interface Target {
  interval: IntervalName;
  seconds: number;
}

export const DEFAULT_TARGET_INTERVAL: IntervalName = 'collected_to_accepted_s';
export const DEFAULT_TARGETS: Targets = { biology: { interval: DEFAULT_TARGET_INTERVAL, default: 1200 } };

const KINDS: readonly ResultKind[] = ['biology', 'imaging', 'vitals'];

export function targetFor(targets: Targets, kind: string, exam: string | undefined): Target | undefined {
  const forKind = targets[kind as ResultKind];
  if (!forKind) return undefined;
  const seconds = (exam !== undefined ? forKind.exams?.[exam] : undefined) ?? forKind.default;
  return seconds === undefined ? undefined : { interval: forKind.interval ?? DEFAULT_TARGET_INTERVAL, seconds };
}

function seconds(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new TypeError(`${where}: a target is a number of seconds above 0, got ${JSON.stringify(value)}`);
  return value;
}

/** Checks targets given as data (a node's JSON, a settings file); the message names the faulty part. */
export function parseTargets(value: unknown): Targets {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('targets: expected an object by kind, e.g. {"biology": {"default": 1200}}');
  const targets: Targets = {};
  for (const [kind, given] of Object.entries(value as Record<string, unknown>)) {
    if (!KINDS.includes(kind as ResultKind)) throw new TypeError(`targets: unknown kind "${kind}" (${KINDS.join(', ')})`);
    if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new TypeError(`targets.${kind}: expected {"interval"?, "default"?, "exams"?}`);
    const { interval, default: byDefault, exams, ...rest } = given as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) throw new TypeError(`targets.${kind}: unknown key "${extra[0]}" (interval, default, exams)`);
    const checked: KindTargets = {};
    if (interval !== undefined) {
      if (!INTERVALS.includes(interval as IntervalName)) throw new TypeError(`targets.${kind}.interval: "${String(interval)}" is not one of ${INTERVALS.join(', ')}`);
      checked.interval = interval as IntervalName;
    }
    if (byDefault !== undefined) checked.default = seconds(byDefault, `targets.${kind}.default`);
    if (exams !== undefined) {
      if (typeof exams !== 'object' || exams === null || Array.isArray(exams)) throw new TypeError(`targets.${kind}.exams: expected {"<exam code>": seconds}`);
      checked.exams = {};
      for (const [code, s] of Object.entries(exams as Record<string, unknown>)) checked.exams[code] = seconds(s, `targets.${kind}.exams["${code}"]`);
    }
    targets[kind as ResultKind] = checked;
  }
  return targets;
}
