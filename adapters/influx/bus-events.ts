/**
 * From what the bus says to points and alerts: a delivery event (and, when it is final, the
 * result's whole life read from the store), a device's result or QC message, the queues' depth.
 */
import type { Store } from '../journal';
import { parseTopic } from '../model/topics';
import type { Result } from '../model/result';
import { deliveryAlert, isFinal, lifeOfImagingObject, lifeOfResult, overTargetAlert, turnaroundOfLife, type Alert, type Life, type Turnaround, type TurnaroundOptions } from '../turnaround';
import { parseImagingEvent } from '../model/validate-imaging';
import { deliveryPoint, devicePoint, queuePoint, turnaroundPoint, type MetricPoint } from './points';

export interface FromBus {
  points: MetricPoint[];
  alerts: Alert[];
}

/** What a delivery event on the bus carries (DeliveryEvent of adapters/delivery, or a 'held' notice). */
interface DeliveryMessage {
  destination?: unknown;
  state?: unknown;
  outboundId?: unknown;
  resultId?: unknown;
  attempts?: unknown;
  ackCode?: unknown;
  at?: unknown;
}

export class UnreadableMessageError extends Error {}

function json(payload: Buffer, topic: string): Record<string, unknown> {
  try {
    const value = JSON.parse(payload.toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // said below
  }
  throw new UnreadableMessageError(`${topic}: not a JSON object`);
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const count = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined);

/**
 * A delivery event: a `delivery` point; for a final one, the `turnaround` point of the result's
 * life (when the store has the result), or of the imaging object a PACS received (from its
 * journaled event); alerts for a rejection, a dead letter, a missed target.
 */
export function fromDelivery(topic: string, payload: Buffer, store: Store, options: TurnaroundOptions = {}): FromBus & { destination: string; turnaround?: Turnaround } {
  const parts = parseTopic(topic);
  const event = json(payload, topic) as DeliveryMessage;
  const destination = text(event.destination);
  const state = text(event.state);
  if (!parts || !destination || !state) throw new UnreadableMessageError(`${topic}: a delivery event needs destination and state`);
  const resultId = text(event.resultId);
  const outboundId = count(event.outboundId);
  const at = typeof event.at === 'number' && Number.isFinite(event.at) ? event.at : Date.now();
  const result: Result | undefined = resultId ? store.getResult(resultId) : undefined;
  // The hub's own topic (after a restart, …/hub/<node>/delivery) names no device: the result does.
  const kind = result?.kind ?? (parts.kind !== 'hub' ? parts.kind : undefined);
  const device = result?.source.deviceId ?? (parts.kind !== 'hub' ? parts.source : undefined);
  const attempts = count(event.attempts) ?? 0;
  const fact = { site: parts.site, kind, device, destination, state, attempts, at, outboundId, resultId };
  const points = [deliveryPoint(fact)];
  const alerts: Alert[] = [];
  const delivered = deliveryAlert({ ...fact, ackCode: text(event.ackCode) });
  if (delivered) alerts.push(delivered);
  let turnaround: Turnaround | undefined;
  const life = isFinal(state) && resultId ? (result ? lifeOfResult(result) : imagingObjectOf(store, outboundId)) : undefined;
  if (life && resultId) {
    const summary = store.deliveriesOf(resultId).find((d) => (outboundId !== undefined ? d.outboundId === outboundId : d.destination === destination));
    // The event's own state and time: the row may have moved on since (re-sent by a person).
    if (summary) turnaround = turnaroundOfLife(life, { ...summary, state, updatedAt: at }, options);
    if (turnaround) {
      points.push(turnaroundPoint(turnaround));
      const late = overTargetAlert(turnaround);
      if (late) alerts.push(late);
    }
  }
  return { points, alerts, destination, turnaround };
}

/** The imaging object a delivery to a PACS carried: its event, journaled when it was queued. */
function imagingObjectOf(store: Store, outboundId: number | undefined): Life | undefined {
  const inboundId = outboundId !== undefined ? store.getOutbound(outboundId)?.inboundId : undefined;
  const entry = inboundId ? store.getInbound(inboundId) : undefined;
  if (!entry) return undefined;
  try {
    return lifeOfImagingObject(parseImagingEvent(entry.raw));
  } catch {
    return undefined; // not an imaging event: a delivery of something the store does not know as a result
  }
}

export interface DeviceSeen {
  site: string;
  kind: string;
  device: string;
}

/** A device's result or QC message: a `device` point, and who spoke. */
export function fromDeviceMessage(topic: string, payload: Buffer): { points: MetricPoint[]; device: DeviceSeen } {
  const parts = parseTopic(topic);
  if (!parts || (parts.event !== 'result' && parts.event !== 'qc')) throw new UnreadableMessageError(`${topic}: not a device result or QC topic`);
  const message = json(payload, topic) as Partial<Result>;
  const device: DeviceSeen = { site: parts.site, kind: text(message.kind) ?? parts.kind, device: text(message.source?.deviceId) ?? parts.source };
  const received = Date.parse(text(message.times?.received) ?? '');
  const resultId = text(message.id);
  if (!resultId) throw new UnreadableMessageError(`${topic}: a result without an id`);
  const point = devicePoint({
    ...device,
    event: parts.event,
    observations: Array.isArray(message.observations) ? message.observations.length : 0,
    at: Number.isFinite(received) ? received : Date.now(),
    resultId,
  });
  return { points: [point], device };
}

/** One `queue` point per destination; `held` (results waiting for a patient) is the site's, the same on each. */
export function queuePoints(store: Store, site: string, destinations: Iterable<string>, now: number): MetricPoint[] {
  const held = store.countUnmatched();
  return [...destinations].map((destination) => queuePoint({ site, destination, ...store.depth(destination), held, at: now }));
}
