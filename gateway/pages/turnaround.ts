/**
 * The turnaround page's figures, for sites without Grafana: the same key figures as the
 * dashboards (adapters/turnaround keyFigures, computed as InfluxQL does), over the results the
 * store still holds for the last days, in the site's days.
 */
import { zoneOffsetMinutes } from '../../adapters/common/time-zone';
import type { ResultRow, Store } from '../../adapters/journal';
import { DEFAULT_TARGETS, examCode, keyFigures, median, percentile, turnaroundsOf, type KeyFigures, type Targets, type Turnaround } from '../../adapters/turnaround';

const DAY_MS = 86_400_000;
const PAGE = 500;
/** Enough for a month of a busy site; beyond, the report says it is truncated rather than stall the hub. */
const MAX_ROWS = 20_000;
/** A delivery may end long after its result came in (a record down overnight): read rows from this much earlier. */
const LATE_DELIVERY_MS = DAY_MS;

export const MAX_DAYS = 31;

export interface TurnaroundQuery {
  /** Today and the days before it, in the site's time zone: 1 is today. */
  days: number;
  timeZone: string;
  now: number;
  targets?: Targets;
}

/** One of the slowest results: ids, codes and times only. */
export interface SlowResult {
  resultId: string;
  exam?: string;
  device: string;
  destination: string;
  at: number;
  seconds: number;
  targetSeconds?: number;
  met?: boolean;
}

export interface TurnaroundReport {
  since: number;
  until: number;
  timeZone: string;
  targets: Targets;
  /** Final deliveries in the period (accepted or dead). */
  deliveries: number;
  accepted: number;
  dead: number;
  /** Deliveries whose target interval is known, and those within their target. */
  withTarget: number;
  withinTarget: number;
  share?: number;
  /** Over the period, on the figures' interval (seconds). */
  median?: number;
  p90?: number;
  /** Deliveries without the figures' interval (collection time absent or out of order), and those with a device clock out of true. */
  unmeasured: number;
  clockSkew: number;
  /** More results than MAX_ROWS in the period: the figures cover the newest ones only. */
  truncated: boolean;
  /** What people call the exams the figures name by code (the order's or the observation's display). */
  examNames: Record<string, string>;
  figures: Omit<KeyFigures, 'slowest'> & { slowest: SlowResult[] };
}

/** Midnight, in `timeZone`, of the day `ms` falls in (epoch ms). */
export function startOfLocalDay(ms: number, timeZone: string): number {
  const local = ms + zoneOffsetMinutes(ms, timeZone) * 60_000;
  const midnight = local - (((local % DAY_MS) + DAY_MS) % DAY_MS);
  return midnight - zoneOffsetMinutes(midnight - zoneOffsetMinutes(ms, timeZone) * 60_000, timeZone) * 60_000;
}

/**
 * The rows recorded since `from`, newest first, at most MAX_ROWS. A page of 500 rows takes some
 * 40 ms to read and parse (20 observations each): the event loop gets a turn between pages, so
 * a month of results does not hold up the device and record connections.
 */
async function rowsSince(store: Store, from: number): Promise<{ rows: ResultRow[]; truncated: boolean }> {
  const rows: ResultRow[] = [];
  let before: string | undefined;
  for (;;) {
    if (before !== undefined) await new Promise((resolve) => setImmediate(resolve));
    const page = store.listResults({ limit: PAGE, before });
    for (const row of page.results) {
      if (row.recordedAt < from) return { rows, truncated: false };
      if (rows.length === MAX_ROWS) return { rows, truncated: true };
      rows.push(row);
    }
    if (!page.next) return { rows, truncated: false };
    before = page.next;
  }
}

/** The display text of each exam code, as the results carry it (the code itself when none). */
function examNames(rows: ResultRow[]): Record<string, string> {
  const names: Record<string, string> = {};
  for (const { result } of rows) {
    const code = examCode(result);
    const first = result.observations?.[0];
    const display = result.order?.code?.display ?? first?.code?.display ?? first?.deviceCode?.display;
    if (code !== undefined && display && names[code] === undefined) names[code] = display;
  }
  return names;
}

function slow(t: Turnaround, seconds: number): SlowResult {
  return { resultId: t.resultId, exam: t.exam, device: t.device, destination: t.destination, at: t.at, seconds, targetSeconds: t.target?.seconds, met: t.target?.met };
}

export async function turnaroundReport(store: Store, query: TurnaroundQuery): Promise<TurnaroundReport> {
  const targets = query.targets ?? DEFAULT_TARGETS;
  const since = startOfLocalDay(query.now - (query.days - 1) * DAY_MS, query.timeZone);
  const { rows, truncated } = await rowsSince(store, since - LATE_DELIVERY_MS);
  const turnarounds = rows.flatMap((row) => turnaroundsOf(row, { targets })).filter((t) => t.at >= since && t.at <= query.now);
  const figures = keyFigures(turnarounds, { timeZone: query.timeZone });
  const values = turnarounds.flatMap((t) => t.intervals[figures.interval] ?? []).sort((a, b) => a - b);
  const judged = turnarounds.filter((t) => t.target?.met !== undefined);
  const within = judged.filter((t) => t.target?.met === true).length;
  return {
    since,
    until: query.now,
    timeZone: query.timeZone,
    targets,
    deliveries: turnarounds.length,
    accepted: turnarounds.filter((t) => t.outcome === 'accepted').length,
    dead: turnarounds.filter((t) => t.outcome === 'dead').length,
    withTarget: judged.length,
    withinTarget: within,
    share: judged.length > 0 ? within / judged.length : undefined,
    median: values.length > 0 ? median(values) : undefined,
    p90: values.length > 0 ? percentile(values, 90) : undefined,
    unmeasured: turnarounds.filter((t) => t.intervals[figures.interval] === undefined).length,
    clockSkew: turnarounds.filter((t) => t.clockSkew).length,
    truncated,
    examNames: examNames(rows),
    figures: { ...figures, slowest: figures.slowest.map((t) => slow(t, t.intervals[figures.interval]!)) },
  };
}

/** A report is reused this long: many open pages and a burst of deliveries make one computation. */
const REUSE_MS = 10_000;

/** turnaroundReport per number of days, computed at most once per REUSE_MS (concurrent asks share it). */
export function turnaroundReports(store: Store, timeZone: string, clock: () => number = Date.now): (days: number) => Promise<TurnaroundReport> {
  const recent = new Map<number, { at: number; report: Promise<TurnaroundReport> }>();
  return (days) => {
    const now = clock();
    const cached = recent.get(days);
    if (cached && now - cached.at < REUSE_MS) return cached.report;
    const report = turnaroundReport(store, { days, timeZone, now });
    recent.set(days, { at: now, report });
    report.catch(() => recent.delete(days));
    return report;
  };
}
