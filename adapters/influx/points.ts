/**
 * The points Passerelle writes to InfluxDB, one builder per measurement of docs/metrics.md (the
 * contract: names change only with the dashboards). Timestamps are nanoseconds as text,
 * `ms × 1,000,000 + discriminator mod 1,000,000`: two events of one millisecond stay two points,
 * and the same event written twice is one point.
 */
import { FieldType, type ISchemaOptions } from 'influx';
import type { Turnaround } from '../turnaround';
import { INTERVALS } from '../turnaround';

export interface MetricPoint {
  measurement: 'turnaround' | 'delivery' | 'queue' | 'device';
  tags: Record<string, string>;
  fields: Record<string, number | boolean | string>;
  /** Nanoseconds since the epoch, as decimal text (beyond a double's precision). */
  timestamp: string;
}

const NS_PER_MS = 1_000_000n;

/** The point's time: `ms` with `discriminator` (an outbound id, a hash) in the nanoseconds. */
export function pointTime(ms: number, discriminator: number): string {
  const spread = BigInt(Math.abs(Math.trunc(discriminator)) % 1_000_000);
  return (BigInt(Math.trunc(ms)) * NS_PER_MS + spread).toString();
}

/** A stable number for a text (FNV-1a, 32 bits): the discriminator of points without an outbound row. */
export function textDiscriminator(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** InfluxDB refuses an empty tag value: an unknown tag is left out, not written as ''. */
function tags(values: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== '') out[key] = value;
  return out;
}

export function turnaroundPoint(t: Turnaround): MetricPoint {
  const fields: MetricPoint['fields'] = { ...t.intervals, missing: t.missing, clock_skew: t.clockSkew, observations: t.observations, result_id: t.resultId };
  if (t.target) {
    fields.target_s = t.target.seconds;
    if (t.target.met !== undefined) fields.target_met = t.target.met;
  }
  return {
    measurement: 'turnaround',
    tags: tags({ site: t.site, kind: t.kind, device: t.device, exam: t.exam, destination: t.destination, outcome: t.outcome }),
    fields,
    timestamp: pointTime(t.at, t.outboundId ?? textDiscriminator(t.resultId)),
  };
}

export interface DeliveryFact {
  site: string;
  kind?: string;
  device?: string;
  destination: string;
  /** sent, accepted, rejected, retrying, unreachable, dead, held */
  state: string;
  attempts: number;
  /** Epoch ms. */
  at: number;
  outboundId?: number;
  resultId?: string;
}

export function deliveryPoint(d: DeliveryFact): MetricPoint {
  return {
    measurement: 'delivery',
    tags: tags({ site: d.site, kind: d.kind, device: d.device, destination: d.destination, state: d.state }),
    fields: { count: 1, attempts: d.attempts },
    timestamp: pointTime(d.at, d.outboundId ?? textDiscriminator(d.resultId ?? `${d.destination}/${d.state}`)),
  };
}

export interface QueueFact {
  site: string;
  destination: string;
  pending: number;
  waiting: number;
  sent: number;
  dead: number;
  held: number;
  /** Epoch ms. */
  at: number;
}

export function queuePoint(q: QueueFact): MetricPoint {
  return {
    measurement: 'queue',
    tags: tags({ site: q.site, destination: q.destination }),
    fields: { pending: q.pending, waiting: q.waiting, sent: q.sent, dead: q.dead, held: q.held },
    timestamp: pointTime(q.at, 0),
  };
}

export interface DeviceFact {
  site: string;
  kind: string;
  device: string;
  event: 'result' | 'qc';
  observations: number;
  /** Epoch ms: when the hub received it. */
  at: number;
  /** The message's result id (its discriminator). */
  resultId: string;
}

export function devicePoint(d: DeviceFact): MetricPoint {
  return {
    measurement: 'device',
    tags: tags({ site: d.site, kind: d.kind, device: d.device, event: d.event }),
    fields: { count: 1, observations: d.observations },
    timestamp: pointTime(d.at, textDiscriminator(d.resultId)),
  };
}

const floats = (names: readonly string[]) => Object.fromEntries(names.map((name) => [name, FieldType.FLOAT]));
const integers = (names: readonly string[]) => Object.fromEntries(names.map((name) => [name, FieldType.INTEGER]));

/** Field types and tag names per measurement: the `influx` client writes integers as `1i`, and refuses a stray field before InfluxDB sees it. */
export function influxSchema(database: string): ISchemaOptions[] {
  return [
    {
      database,
      measurement: 'turnaround',
      tags: ['site', 'kind', 'device', 'exam', 'destination', 'outcome'],
      fields: {
        ...floats([...INTERVALS, 'target_s']),
        ...integers(['missing', 'observations']),
        target_met: FieldType.BOOLEAN,
        clock_skew: FieldType.BOOLEAN,
        result_id: FieldType.STRING,
      },
    },
    { database, measurement: 'delivery', tags: ['site', 'kind', 'device', 'destination', 'state'], fields: integers(['count', 'attempts']) },
    { database, measurement: 'queue', tags: ['site', 'destination'], fields: integers(['pending', 'waiting', 'sent', 'dead', 'held']) },
    { database, measurement: 'device', tags: ['site', 'kind', 'device', 'event'], fields: integers(['count', 'observations']) },
  ];
}
