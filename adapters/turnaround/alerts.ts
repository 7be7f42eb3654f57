/**
 * Alerts a technician can wire to mail or SMS: a result over its target, a delivery rejected or
 * dead-lettered, a device silent for longer than its gap. No patient data: ids, codes, times and
 * ACK codes only (the record's error text may name the patient). `id` is the same for the same
 * fact, so a receiver can drop a repeat (a bus message delivered again after a restart).
 */
import type { IntervalName } from './intervals';
import { median } from './figures';
import type { Turnaround } from './turnaround';

export type AlertType = 'over-target' | 'rejected' | 'dead' | 'device-silent';

export interface Alert {
  id: string;
  type: AlertType;
  severity: 'warning' | 'critical';
  site: string;
  kind?: string;
  device?: string;
  destination?: string;
  resultId?: string;
  exam?: string;
  interval?: IntervalName;
  seconds?: number;
  targetSeconds?: number;
  ackCode?: string;
  attempts?: number;
  /** device-silent: since when (RFC 3339), and for how long. */
  lastSeen?: string;
  /** device-silent: the silence allowed to this device, in seconds (its usual gap, or the minimum). */
  allowedSeconds?: number;
  /** RFC 3339: when the fact happened. */
  at: string;
}

export function overTargetAlert(t: Turnaround): Alert | undefined {
  if (t.target?.met !== false) return undefined;
  const alert: Alert = {
    id: `over-target:${t.resultId}:${t.destination}`,
    type: 'over-target',
    severity: 'warning',
    site: t.site,
    kind: t.kind,
    device: t.device,
    destination: t.destination,
    resultId: t.resultId,
    interval: t.target.interval,
    seconds: t.intervals[t.target.interval],
    targetSeconds: t.target.seconds,
    at: new Date(t.at).toISOString(),
  };
  if (t.exam !== undefined) alert.exam = t.exam;
  return alert;
}

export interface DeliveryAlertFact {
  site: string;
  kind?: string;
  device?: string;
  destination: string;
  state: string;
  outboundId?: number;
  resultId?: string;
  ackCode?: string;
  attempts: number;
  /** Epoch ms. */
  at: number;
}

/** A rejection (it will be retried) or a dead letter (it will not, without a person). */
export function deliveryAlert(d: DeliveryAlertFact): Alert | undefined {
  if (d.state !== 'rejected' && d.state !== 'dead') return undefined;
  const alert: Alert = {
    id: `${d.state}:${d.outboundId ?? d.resultId ?? ''}:${d.destination}:${d.attempts}`,
    type: d.state,
    severity: d.state === 'dead' ? 'critical' : 'warning',
    site: d.site,
    destination: d.destination,
    attempts: d.attempts,
    at: new Date(d.at).toISOString(),
  };
  for (const key of ['kind', 'device', 'resultId', 'ackCode'] as const) if (d[key] !== undefined) alert[key] = d[key];
  return alert;
}

interface Watched {
  site: string;
  kind: string;
  device: string;
  lastSeen: number;
  alerted: boolean;
  /** The latest gaps between its messages (ms), oldest first. */
  gaps: number[];
}

/** How many recent gaps make a device's usual gap, and how many usual gaps make a silence. */
const GAP_SAMPLES = 20;
const USUAL_GAPS_OF_SILENCE = 3;

/** The median of a device's latest gaps; 0 before its second message. */
function usualGap(gaps: readonly number[]): number {
  return gaps.length === 0 ? 0 : median([...gaps].sort((a, b) => a - b));
}

/**
 * Which devices have been quiet for longer than usual: a device is silent after three times its
 * usual gap (the median of its latest gaps between messages), and never before `minimumGapMs` —
 * an analyser used once an hour is not silent after twenty minutes, one used every two minutes
 * is after the minimum. Each silence is said once, until the device speaks again.
 */
export class SilenceWatch {
  private readonly devices = new Map<string, Watched>();

  constructor(private readonly minimumGapMs: number) {}

  /** A message from the device at `at` (epoch ms); older news than what is known changes nothing. */
  seen(device: { site: string; kind: string; device: string }, at: number): void {
    const key = `${device.site}/${device.kind}/${device.device}`;
    const known = this.devices.get(key);
    if (known && known.lastSeen >= at) return;
    const gaps = known ? [...known.gaps, at - known.lastSeen].slice(-GAP_SAMPLES) : [];
    this.devices.set(key, { ...device, lastSeen: at, alerted: false, gaps });
  }

  /** The devices that just went silent at `now`. */
  check(now: number): Alert[] {
    if (!(this.minimumGapMs > 0)) return [];
    const alerts: Alert[] = [];
    for (const watched of this.devices.values()) {
      const allowed = Math.max(this.minimumGapMs, USUAL_GAPS_OF_SILENCE * usualGap(watched.gaps));
      if (watched.alerted || now - watched.lastSeen <= allowed) continue;
      watched.alerted = true;
      const lastSeen = new Date(watched.lastSeen).toISOString();
      alerts.push({
        id: `device-silent:${watched.site}/${watched.kind}/${watched.device}:${lastSeen}`,
        type: 'device-silent',
        severity: 'warning',
        site: watched.site,
        kind: watched.kind,
        device: watched.device,
        lastSeen,
        seconds: Math.round((now - watched.lastSeen) / 1000),
        allowedSeconds: Math.round(allowed / 1000),
        at: new Date(now).toISOString(),
      });
    }
    return alerts;
  }
}
