/**
 * One result's turnaround to one destination, from its life: the canonical result's times
 * (ordered, collected, analysed, received by the hub) and its delivery (queued, first sent,
 * accepted or dead). Pure: no clock, no I/O.
 *
 * An interval is given only when both its ends are known and in order: never invented, never
 * negative. A device time after the hub's reception, or too long before it, is a clock out of
 * true: flagged, and every interval that starts or ends on it is left out.
 */
import type { ImagingEvent } from '../model/imaging';
import type { Result } from '../model/result';
import { INTERVALS, SPANS, type IntervalName, type Moment } from './intervals';
import { DEFAULT_TARGETS, targetFor, type Target, type Targets } from './targets';

/** A delivery as the store summarises it (DeliverySummary has this shape). */
export interface DeliveryLife {
  destination: string;
  /** Only 'accepted' and 'dead' are final: other states have no turnaround yet. */
  state: string;
  outboundId?: number;
  /** Epoch ms: first sent to the destination. */
  sentAt?: number;
  /** Epoch ms: the last change, i.e. the final state's time once final. */
  updatedAt: number;
}

export interface TurnaroundOptions {
  /** DEFAULT_TARGETS when absent. */
  targets?: Targets;
  /** A device time more than this before the hub's reception is a clock out of true; 24. */
  maxDeviceLeadHours?: number;
}

export interface Turnaround {
  resultId: string;
  site: string;
  kind: string;
  device: string;
  /** The order's code, else the first observation's (LOINC when mapped, else the device's). */
  exam?: string;
  destination: string;
  outcome: 'accepted' | 'dead';
  outboundId?: number;
  /** Epoch ms of the final state. */
  at: number;
  /** Seconds, for the intervals that could be computed. */
  intervals: Partial<Record<IntervalName, number>>;
  /** Intervals that apply to this outcome but could not be computed (a time absent, out of order or skewed). */
  missing: number;
  clockSkew: boolean;
  /** The device times set aside for skew. */
  skewed: Moment[];
  /** The target that applies, and whether it was met (absent when its interval is missing). */
  target?: Target & { met?: boolean };
  observations: number;
}

export const DEFAULT_MAX_DEVICE_LEAD_HOURS = 24;
/** Times the device (or the order) gives, checked against the hub's reception. */
const DEVICE_MOMENTS: readonly Moment[] = ['collected', 'analysed'];

function instant(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

function epoch(ms: number | undefined): number | undefined {
  return ms !== undefined && Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

export function examCode(result: Result): string | undefined {
  const first = result.observations?.[0];
  const code = result.order?.code?.code || first?.code?.code || first?.deviceCode?.code;
  return code ? code : undefined;
}

export function isFinal(state: string): state is 'accepted' | 'dead' {
  return state === 'accepted' || state === 'dead';
}

/**
 * What a turnaround is computed from, whatever travels: a canonical result, or an imaging object
 * on its way to the PACS. `moments`: the moments such a thing can have (all by default); the
 * intervals between the others do not apply to it — left out, not counted missing.
 */
export interface Life {
  id: string;
  site: string;
  kind: string;
  device: string;
  exam?: string;
  observations: number;
  times: { ordered?: string; collected?: string; analysed?: string; received?: string };
  moments?: readonly Moment[];
}

export function lifeOfResult(result: Result): Life {
  const times = result.times ?? ({} as Partial<Result['times']>);
  return {
    id: result.id,
    site: result.source.site,
    kind: result.kind,
    device: result.source.deviceId,
    exam: examCode(result),
    observations: result.observations?.length ?? 0,
    times: { ordered: times.ordered, collected: times.collected ?? result.specimen?.collectedAt, analysed: times.analysed, received: times.received },
  };
}

/** An imaging object's way to the PACS: acquired (the modality's clock) → the hub had it → sent → stored in the PACS. */
export function lifeOfImagingObject(event: ImagingEvent): Life {
  return {
    id: event.id,
    site: event.source.site,
    kind: 'imaging',
    device: event.source.deviceId,
    exam: event.modality,
    observations: 1,
    times: { analysed: event.times.acquired ?? event.times.content, received: event.times.received },
    moments: ['analysed', 'received', 'sent', 'accepted'],
  };
}

/** The turnaround of `result` to `delivery`'s destination; undefined while the delivery is not final. */
export function computeTurnaround(result: Result, delivery: DeliveryLife, options: TurnaroundOptions = {}): Turnaround | undefined {
  return turnaroundOfLife(lifeOfResult(result), delivery, options);
}

export function turnaroundOfLife(life: Life, delivery: DeliveryLife, options: TurnaroundOptions = {}): Turnaround | undefined {
  if (!isFinal(delivery.state)) return undefined;
  const outcome = delivery.state;
  const maxLeadMs = (options.maxDeviceLeadHours ?? DEFAULT_MAX_DEVICE_LEAD_HOURS) * 3_600_000;
  const { times } = life;
  const moments: Partial<Record<Moment, number>> = {
    ordered: instant(times.ordered),
    collected: instant(times.collected),
    analysed: instant(times.analysed),
    received: instant(times.received),
    sent: epoch(delivery.sentAt),
    accepted: outcome === 'accepted' ? epoch(delivery.updatedAt) : undefined,
  };
  const skewed: Moment[] = [];
  const received = moments.received;
  if (received !== undefined) {
    for (const moment of DEVICE_MOMENTS) {
      const at = moments[moment];
      if (at !== undefined && (at > received || at < received - maxLeadMs)) {
        skewed.push(moment);
        moments[moment] = undefined;
      }
    }
  }

  const applies = (moment: Moment) => !life.moments || life.moments.includes(moment);
  const intervals: Partial<Record<IntervalName, number>> = {};
  let missing = 0;
  for (const name of INTERVALS) {
    const [from, to] = SPANS[name];
    if (to === 'accepted' && outcome !== 'accepted') continue; // a dead letter has no acceptance to miss
    if (!applies(from) || !applies(to)) continue;
    const start = moments[from];
    const end = moments[to];
    if (start !== undefined && end !== undefined && end >= start) intervals[name] = (end - start) / 1000;
    else missing++;
  }

  const turnaround: Turnaround = {
    resultId: life.id,
    site: life.site,
    kind: life.kind,
    device: life.device,
    destination: delivery.destination,
    outcome,
    at: delivery.updatedAt,
    intervals,
    missing,
    clockSkew: skewed.length > 0,
    skewed,
    observations: life.observations,
  };
  if (life.exam !== undefined) turnaround.exam = life.exam;
  if (delivery.outboundId !== undefined) turnaround.outboundId = delivery.outboundId;
  const target = targetFor(options.targets ?? DEFAULT_TARGETS, life.kind, life.exam);
  if (target) {
    const value = intervals[target.interval];
    turnaround.target = value === undefined ? { ...target } : { ...target, met: value <= target.seconds };
  }
  return turnaround;
}

/** Every final delivery of a result (a results-board row: result + deliveries) as turnarounds. */
export function turnaroundsOf(row: { result: Result; deliveries: DeliveryLife[] }, options: TurnaroundOptions = {}): Turnaround[] {
  return row.deliveries.flatMap((delivery) => computeTurnaround(row.result, delivery, options) ?? []);
}
