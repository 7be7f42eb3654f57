/**
 * The key figures of turnaround over a list of turnarounds: what the Grafana dashboards show,
 * for the hub's own turnaround page. Medians and percentiles as InfluxQL computes them
 * (MEDIAN: mean of the two middle values; PERCENTILE: nearest rank), so both show the same numbers.
 */
import type { IntervalName } from './intervals';
import { DEFAULT_TARGET_INTERVAL } from './targets';
import type { Turnaround } from './turnaround';

export interface FigureOptions {
  /** The interval the medians, percentiles and "slowest" read; collected_to_accepted_s. */
  interval?: IntervalName;
  /** Days and hours are the site's: Europe/Paris. */
  timeZone?: string;
  /** How many slowest results; 10. */
  slowest?: number;
}

export interface DayShare {
  /** YYYY-MM-DD, local. */
  day: string;
  results: number;
  /** Results whose target interval is known (target_met written). */
  withTarget: number;
  withinTarget: number;
  /** withinTarget / withTarget, absent when no result of the day has a known target interval. */
  share?: number;
}

export interface Spread {
  key: string;
  /** Results with the interval. */
  count: number;
  median: number;
  p90: number;
}

export interface HourVolume {
  /** YYYY-MM-DDTHH, local. */
  hour: string;
  results: number;
}

export interface KeyFigures {
  interval: IntervalName;
  days: DayShare[];
  exams: Spread[];
  devices: Spread[];
  hours: HourVolume[];
  /** Slowest first, on `interval`. */
  slowest: Turnaround[];
}

const DEFAULT_SLOWEST = 10;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** YYYY-MM-DDTHH of an instant in a time zone. */
function localHour(ms: number, timeZone: string): string {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit' });
    formatters.set(timeZone, formatter);
  }
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(new Date(ms))) parts[part.type] = part.value;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}`;
}

/** InfluxQL MEDIAN(). */
export function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (n % 2 === 1) return sorted[(n - 1) / 2];
  const [lo, hi] = [sorted[n / 2 - 1], sorted[n / 2]];
  return lo + (hi - lo) / 2;
}

/** InfluxQL PERCENTILE(): the nearest rank, floor(n × p / 100 + 0.5), 1-based; NaN when out of range. */
export function percentile(sorted: readonly number[], p: number): number {
  const i = Math.floor((sorted.length * p) / 100 + 0.5) - 1;
  return i >= 0 && i < sorted.length ? sorted[i] : NaN;
}

function spreads(turnarounds: readonly Turnaround[], interval: IntervalName, keyOf: (t: Turnaround) => string | undefined): Spread[] {
  const groups = new Map<string, number[]>();
  for (const t of turnarounds) {
    const value = t.intervals[interval];
    const key = keyOf(t);
    if (value === undefined || key === undefined) continue;
    const list = groups.get(key) ?? [];
    list.push(value);
    groups.set(key, list);
  }
  return [...groups.entries()]
    .map(([key, values]) => {
      const sorted = values.sort((a, b) => a - b);
      return { key, count: sorted.length, median: median(sorted), p90: percentile(sorted, 90) };
    })
    .sort((a, b) => a.key.localeCompare(b.key));
}

export function keyFigures(turnarounds: readonly Turnaround[], options: FigureOptions = {}): KeyFigures {
  const interval = options.interval ?? DEFAULT_TARGET_INTERVAL;
  const timeZone = options.timeZone ?? 'Europe/Paris';
  const days = new Map<string, DayShare>();
  const hours = new Map<string, number>();
  for (const t of turnarounds) {
    const hour = localHour(t.at, timeZone);
    hours.set(hour, (hours.get(hour) ?? 0) + 1);
    const key = hour.slice(0, 10);
    const day = days.get(key) ?? { day: key, results: 0, withTarget: 0, withinTarget: 0 };
    day.results++;
    if (t.target?.met !== undefined) {
      day.withTarget++;
      if (t.target.met) day.withinTarget++;
    }
    days.set(key, day);
  }
  for (const day of days.values()) if (day.withTarget > 0) day.share = day.withinTarget / day.withTarget;
  const slowest = turnarounds
    .filter((t) => t.intervals[interval] !== undefined)
    .sort((a, b) => b.intervals[interval]! - a.intervals[interval]! || a.at - b.at)
    .slice(0, Math.max(0, options.slowest ?? DEFAULT_SLOWEST));
  return {
    interval,
    days: [...days.values()].sort((a, b) => a.day.localeCompare(b.day)),
    exams: spreads(turnarounds, interval, (t) => t.exam),
    devices: spreads(turnarounds, interval, (t) => t.device),
    hours: [...hours.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([hour, results]) => ({ hour, results })),
    slowest,
  };
}
