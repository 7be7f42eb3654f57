/**
 * A site's two days of known results, written to InfluxDB in line protocol exactly as
 * docs/metrics.md says the hub writes them (measurements turnaround, delivery, queue, device;
 * timestamps in ns = event ms × 1,000,000 + outbound id). The dashboards test checks the figures
 * each panel shows against the numbers worked out by hand beside each point here.
 *
 * Three biology devices, two exams (NFS 58410-2, CRP 1988-5), Thursday 19 and Friday 20
 * November 2026 in Paris, viewed on Friday at 17:00. Points that must NOT count are here too:
 * another site, the GPs' destination, an imaging result, a day before the range.
 */
import { offsetForWallTime } from '../../adapters/common/time-zone';

export const DATABASE = 'passerelle';
export const SITE = 'centre-soins-nord';
export const OTHER_SITE = 'cabinet-sud';
export const RECORD = 'ehr';
export const GP = 'médecin-généraliste';
export const NFS = '58410-2';
export const CRP = '1988-5';
export const YUMIZEN = 'yumizen-h500-1';
export const MICROSEMI = 'microsemi-crp-1';
export const AFINION = 'afinion-2';
export const MOBILETT = 'mobilett-1';

/** Paris wall time (e.g. "2026-11-20T09:10") → epoch ms. */
export function paris(local: string): number {
  const wall = Date.parse(`${local}:00Z`);
  return wall - offsetForWallTime(wall, 'Europe/Paris') * 60_000;
}

export const VIEW = { from: paris('2026-11-19T00:00'), to: paris('2026-11-20T17:00'), now: paris('2026-11-20T17:00') };

type FieldValue = number | boolean | string | { integer: number };

function escapeTag(value: string): string {
  return value.replace(/[,= ]/g, '\\$&');
}

function formatField(value: FieldValue): string {
  if (typeof value === 'object') return `${value.integer}i`;
  if (typeof value === 'string') return `"${value.replace(/["\\]/g, '\\$&')}"`;
  return String(value);
}

let sequence = 0;

function point(measurement: string, tags: Record<string, string>, fields: Record<string, FieldValue | undefined>, atMs: number): string {
  sequence += 1;
  const tagText = Object.entries(tags).map(([k, v]) => `${k}=${escapeTag(v)}`).join(',');
  const fieldText = Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${formatField(v!)}`).join(',');
  return `${measurement},${tagText} ${fieldText} ${atMs}${String(sequence % 1_000_000).padStart(6, '0')}`;
}

const integer = (n: number) => ({ integer: n });

interface ResultLife {
  at: string;
  device: string;
  exam: string;
  /** collected → accepted in seconds, or 'dead' (never accepted: no interval ending at the ACK, none of them counted missing). */
  turnaround: number | 'dead';
  id: string;
  missing?: number;
  clockSkew?: boolean;
  site?: string;
  kind?: string;
  destination?: string;
}

const TARGET_S = 1200;

function turnaround(r: ResultLife): string {
  const dead = r.turnaround === 'dead';
  const biology = (r.kind ?? 'biology') === 'biology';
  const seconds = dead ? undefined : (r.turnaround as number);
  return point('turnaround', {
    site: r.site ?? SITE, kind: r.kind ?? 'biology', device: r.device, exam: r.exam, destination: r.destination ?? RECORD, outcome: dead ? 'dead' : 'accepted',
  }, {
    collected_to_accepted_s: seconds,
    received_to_accepted_s: seconds === undefined ? undefined : Math.round(seconds / 4),
    target_s: biology ? TARGET_S : undefined,
    target_met: biology && seconds !== undefined ? seconds <= TARGET_S : undefined,
    missing: integer(r.missing ?? 0),
    clock_skew: r.clockSkew ?? false,
    observations: integer(r.exam === NFS ? 20 : 1),
    result_id: r.id,
  }, paris(r.at));
}

/** Final states of results (turnaround). Figures the panels must show are in test/dashboards/panels.test.ts. */
const RESULTS: ResultLife[] = [
  // Thursday: 7 with an interval, 5 within 20 min; one dead letter.
  { at: '2026-11-19T00:30', device: YUMIZEN, exam: NFS, turnaround: 840, id: 'r-0001' }, // 23:30 UTC the day before: a Paris day
  { at: '2026-11-19T08:10', device: YUMIZEN, exam: NFS, turnaround: 600, id: 'r-0002' },
  { at: '2026-11-19T08:40', device: YUMIZEN, exam: NFS, turnaround: 900, id: 'r-0003' },
  { at: '2026-11-19T09:15', device: AFINION, exam: CRP, turnaround: 480, id: 'r-0004' },
  { at: '2026-11-19T09:20', device: MICROSEMI, exam: CRP, turnaround: 1500, id: 'r-0005' },
  { at: '2026-11-19T10:05', device: MICROSEMI, exam: NFS, turnaround: 1320, id: 'r-0006' },
  { at: '2026-11-19T10:30', device: YUMIZEN, exam: NFS, turnaround: 720, id: 'r-0007' },
  { at: '2026-11-19T11:45', device: AFINION, exam: CRP, turnaround: 'dead', id: 'r-0008' },
  // Friday: 6 with an interval, 4 within 20 min; one without its order time, one with a device clock ahead.
  { at: '2026-11-20T08:05', device: YUMIZEN, exam: NFS, turnaround: 660, id: 'r-0009' },
  { at: '2026-11-20T08:50', device: MICROSEMI, exam: CRP, turnaround: 540, id: 'r-0010', missing: 1 },
  { at: '2026-11-20T09:10', device: YUMIZEN, exam: NFS, turnaround: 1800, id: 'r-0011' },
  { at: '2026-11-20T09:40', device: MICROSEMI, exam: NFS, turnaround: 1080, id: 'r-0012' },
  { at: '2026-11-20T14:20', device: YUMIZEN, exam: NFS, turnaround: 780, id: 'r-0013', missing: 2, clockSkew: true },
  { at: '2026-11-20T15:30', device: MICROSEMI, exam: CRP, turnaround: 1260, id: 'r-0014' },
  // Never in the figures: the GPs' copy, another site, imaging, before the range.
  { at: '2026-11-20T09:00', device: YUMIZEN, exam: NFS, turnaround: 2400, id: 'r-0015', destination: GP },
  { at: '2026-11-20T10:00', device: 'yumizen-h500-9', exam: NFS, turnaround: 3000, id: 'r-0016', site: OTHER_SITE },
  { at: '2026-11-20T11:00', device: MOBILETT, exam: '36554-4', turnaround: 5000, id: 'r-0017', kind: 'imaging' },
  { at: '2026-11-18T23:30', device: YUMIZEN, exam: NFS, turnaround: 1700, id: 'r-0018' },
];

/** n delivery events three minutes apart from `at`. */
function deliveries(at: string, destination: string, state: string, n: number, site = SITE): string[] {
  return Array.from({ length: n }, (_, i) => point('delivery', { site, kind: 'biology', device: YUMIZEN, destination, state }, { count: integer(1), attempts: integer(state === 'dead' ? 5 : 1) }, paris(at) + i * 180_000));
}

const DELIVERIES: string[] = [
  ...deliveries('2026-11-19T08:00', RECORD, 'sent', 8),
  ...deliveries('2026-11-19T08:01', RECORD, 'accepted', 6),
  ...deliveries('2026-11-19T09:30', RECORD, 'rejected', 2),
  ...deliveries('2026-11-19T09:31', RECORD, 'retrying', 2),
  ...deliveries('2026-11-19T11:45', RECORD, 'dead', 1),
  ...deliveries('2026-11-19T08:05', GP, 'sent', 4),
  ...deliveries('2026-11-19T08:06', GP, 'accepted', 3),
  ...deliveries('2026-11-19T10:00', GP, 'unreachable', 1),
  ...deliveries('2026-11-19T10:15', GP, 'held', 1),
  ...deliveries('2026-11-20T08:00', RECORD, 'sent', 6),
  ...deliveries('2026-11-20T08:01', RECORD, 'accepted', 5),
  ...deliveries('2026-11-20T09:20', RECORD, 'rejected', 1),
  ...deliveries('2026-11-20T12:00', RECORD, 'dead', 1),
  ...deliveries('2026-11-20T08:30', GP, 'sent', 3),
  ...deliveries('2026-11-20T08:31', GP, 'accepted', 2),
  ...deliveries('2026-11-20T13:00', GP, 'dead', 1),
  // Never in the figures: another site, before the range.
  ...deliveries('2026-11-20T10:00', RECORD, 'accepted', 4, OTHER_SITE),
  ...deliveries('2026-11-18T20:00', RECORD, 'accepted', 3),
];

function queue(at: string, destination: string, depth: { pending: number; waiting: number; sent: number; dead: number; held: number }, site = SITE): string {
  return point('queue', { site, destination }, Object.fromEntries(Object.entries(depth).map(([k, v]) => [k, integer(v)])), paris(at));
}

const QUEUES: string[] = [
  queue('2026-11-19T08:00', RECORD, { pending: 0, waiting: 0, sent: 0, dead: 0, held: 0 }),
  queue('2026-11-20T16:30', RECORD, { pending: 3, waiting: 1, sent: 1, dead: 2, held: 1 }),
  queue('2026-11-20T16:55', RECORD, { pending: 2, waiting: 1, sent: 1, dead: 2, held: 1 }),
  queue('2026-11-19T10:00', GP, { pending: 1, waiting: 1, sent: 0, dead: 0, held: 1 }),
  queue('2026-11-20T16:50', GP, { pending: 1, waiting: 2, sent: 0, dead: 1, held: 0 }),
  queue('2026-11-20T16:00', RECORD, { pending: 50, waiting: 0, sent: 0, dead: 0, held: 9 }, OTHER_SITE),
];

function message(at: string, device: string, event: 'result' | 'qc', observations: number, kind = 'biology', site = SITE): string {
  return point('device', { site, kind, device, event }, { count: integer(1), observations: integer(observations) }, paris(at));
}

const DEVICE_MESSAGES: string[] = [
  ...['2026-11-19T08:00', '2026-11-19T08:30', '2026-11-19T10:30', '2026-11-20T08:00', '2026-11-20T09:00', '2026-11-20T16:20'].map((at) => message(at, YUMIZEN, 'result', 20)),
  message('2026-11-20T07:30', YUMIZEN, 'qc', 18),
  ...['2026-11-19T09:20', '2026-11-19T10:05', '2026-11-20T08:50', '2026-11-20T09:40', '2026-11-20T14:30'].map((at) => message(at, MICROSEMI, 'result', 21)),
  ...['2026-11-19T09:15', '2026-11-19T11:30'].map((at) => message(at, AFINION, 'result', 1)),
  message('2026-11-19T07:45', AFINION, 'qc', 1),
  ...['2026-11-20T11:00', '2026-11-20T16:45'].map((at) => message(at, MOBILETT, 'result', 1, 'imaging')),
  // Never in the figures: another site, a device seen only before the range.
  message('2026-11-20T16:50', 'yumizen-h500-9', 'result', 20, 'biology', OTHER_SITE),
  message('2026-11-17T10:00', 'dca-vantage-1', 'result', 1),
];

/** Every point of the known site, one line-protocol line each. */
export const KNOWN_SITE_LINES: readonly string[] = [...RESULTS.map(turnaround), ...DELIVERIES, ...QUEUES, ...DEVICE_MESSAGES];
