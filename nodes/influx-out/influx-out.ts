/**
 * passerelle-influx-out: turnaround metrics to InfluxDB, and alerts. Subscribes durably on the
 * bus to the site's delivery events, results and QC results; each becomes points (docs/metrics.md)
 * queued on disk before the bus message is acknowledged, then written to InfluxDB in batches by
 * an InfluxWriter. Queue depths every minute. Alerts (over target, rejected, dead letter, silent
 * device) go to the output and on the bus as …/alert.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { fromDelivery, fromDeviceMessage, InfluxWriter, queuePoints, UnreadableMessageError, type MetricPoint } from '../../adapters/influx';
import type { Store } from '../../adapters/journal';
import { TOPIC_ROOT, topicFor, topicLevel } from '../../adapters/model/topics';
import { DEFAULT_TARGETS, parseTargets, SilenceWatch, type Alert, type Targets } from '../../adapters/turnaround';
import type { BusNode } from '../bus/bus';
import { subscribeOnBus } from '../bus-subscriptions';
import { hubSettings, openStore } from '../hub-settings';
import { NodeStatus, shortError } from '../status';

interface InfluxOutDef extends NodeDef {
  bus: string;
  site: string;
  url: string;
  database: string;
  retention: string;
  /** 'node': this node's credentials; 'env': INFLUX_USERNAME / INFLUX_PASSWORD of the hub's environment. */
  credentialsFrom: 'node' | 'env';
  /** JSON, adapters/turnaround targets. */
  targets: string;
  /** Minutes without a message before a device is said silent; 0: never. */
  silentAfter: string | number;
  /** Hours a device time may lead the hub's reception before it counts as a clock out of true. */
  skewHours: string | number;
}

interface InfluxCredentials {
  username?: string;
  password?: string;
}

const STATUS_EVERY_MS = 1000;
const MINUTE_MS = 60_000;

function number(value: string | number | undefined, fallback: number): number {
  const n = Number(value);
  return value === '' || value === undefined || !Number.isFinite(n) || n < 0 ? fallback : n;
}

/** A field left blank, or a ${VARIABLE} the environment does not set (Node-RED leaves those as they are). */
function given(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' || /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value.trim()) ? undefined : value.trim();
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

module.exports = function register(RED: NodeAPI): void {
  function InfluxOutNode(this: Node<InfluxCredentials>, def: InfluxOutDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(node);
    const settings = hubSettings(RED);
    const site = def.site || settings.siteId;

    const url = given(def.url);
    if (!url) {
      status.idle(RED._('passerelle-influx-out.status.not-configured'));
      return;
    }
    let targets: Targets;
    try {
      targets = def.targets ? parseTargets(JSON.parse(def.targets)) : DEFAULT_TARGETS;
    } catch (err) {
      status.failing(RED._('passerelle-influx-out.status.bad-config'));
      node.error(RED._('passerelle-influx-out.errors.targets', { reason: (err as Error).message }));
      return;
    }
    const credentials = def.credentialsFrom === 'env'
      ? { username: process.env.INFLUX_USERNAME, password: process.env.INFLUX_PASSWORD }
      : node.credentials ?? {};
    const store: Store = openStore(RED);
    let writer: InfluxWriter;
    try {
      writer = new InfluxWriter({ store, channel: node.id, url, database: given(def.database), retention: given(def.retention), username: credentials.username, password: credentials.password });
    } catch (err) {
      store.close();
      status.failing(RED._('passerelle-influx-out.status.bad-config'));
      node.error(RED._('passerelle-influx-out.errors.config', { reason: (err as Error).message }));
      return;
    }
    const turnaroundOptions = { targets, maxDeviceLeadHours: number(def.skewHours, 24) };
    const silentAfterMs = number(def.silentAfter, 60) * MINUTE_MS;
    const silence = new SilenceWatch(silentAfterMs);
    // Devices heard from in the last week are watched from the start; older ones are taken as retired.
    const recent = Date.now() - 7 * 24 * 60 * MINUTE_MS;
    for (const last of store.lastResultPerDevice()) if (last.site === site && last.recordedAt > recent) silence.seen({ site, kind: last.kind, device: last.deviceId }, last.recordedAt);
    const destinations = new Set(store.destinationsWithQueue());

    const alert = (a: Alert) => {
      const seconds = a.seconds ?? 0;
      const text = RED._(`passerelle-influx-out.alerts.${a.type}`, {
        kind: a.kind ?? '', device: a.device ?? '', destination: a.destination ?? '', resultId: a.resultId ?? '', exam: a.exam ?? '',
        duration: duration(seconds), target: duration(a.targetSeconds ?? 0), ackCode: a.ackCode ?? '-', attempts: a.attempts ?? 0,
      });
      const topic = topicFor({ site: a.site, kind: a.kind ?? 'hub', source: a.device ?? a.destination ?? node.id, event: 'alert' });
      const payload = { ...a, text };
      busConnection?.current()?.publish(topic, JSON.stringify(payload)).catch((err: unknown) => node.warn(`bus: ${shortError(err, 200)}`));
      node.send({ topic, payload });
    };

    /** Queued on disk before the handler resolves: only then is the bus message acknowledged. */
    const queueDurably = (points: MetricPoint[]) => writer.queue(points);

    const onDelivery = async (topic: string, payload: Buffer) => {
      const { points, alerts, destination } = fromDelivery(topic, payload, store, turnaroundOptions);
      destinations.add(destination);
      queueDurably([...points, ...queuePoints(store, site, [destination], Date.now())]);
      alerts.forEach(alert);
    };
    const onDevice = async (topic: string, payload: Buffer) => {
      const { points, device } = fromDeviceMessage(topic, payload);
      queueDurably(points);
      silence.seen(device, Date.now());
    };
    /** A message that cannot be read is acknowledged (reading it again will not help) and said. */
    const guarded = (handler: (topic: string, payload: Buffer) => Promise<void>) => async (topic: string, payload: Buffer) => {
      try {
        await handler(topic, payload);
      } catch (err) {
        if (!(err instanceof UnreadableMessageError)) throw err; // the store failed: no PUBACK, the broker sends it again
        node.warn(RED._('passerelle-influx-out.errors.unreadable', { reason: err.message }));
      }
    };

    const writeQueues = () => queueDurably(queuePoints(store, site, destinations, Date.now()));
    const checkSilence = () => silence.check(Date.now()).forEach(alert);
    const guard = (fn: () => void) => () => {
      try {
        fn();
      } catch (err) {
        node.error(shortError(err, 200));
      }
    };

    const showStatus = () => {
      const s = writer.status;
      const queued = RED._('passerelle-influx-out.status.queued', { waiting: s.waiting, aside: s.setAside });
      if (s.lastError && !s.connected) status.failing(`${RED._('passerelle-influx-out.status.unreachable')} · ${s.waiting}`);
      else if (s.lastError) status.failing(shortError(s.lastError, 20));
      else if (s.waiting > 0 || s.setAside > 0) status.waiting(queued);
      else if (s.connected) status.working(RED._('passerelle-influx-out.status.connected'));
      else status.waiting(RED._('passerelle-influx-out.status.connecting'));
    };

    writer.on('notice', (notice: string) => node.warn(RED._('passerelle-influx-out.errors.setup', { reason: notice })));
    writer.on('set-aside', (n: number, error: string) => node.error(RED._('passerelle-influx-out.errors.set-aside', { count: n, reason: error })));
    writer.start();
    const statusTimer = setInterval(showStatus, STATUS_EVERY_MS);
    const queueTimer = setInterval(guard(writeQueues), MINUTE_MS);
    // A short gap (a test, a demo) is checked often enough to be said within a quarter of it.
    const silenceTimer = setInterval(guard(checkSilence), Math.min(MINUTE_MS, Math.max(1000, silentAfterMs / 4)));
    showStatus();

    const busNode = RED.nodes.getNode(def.bus) as BusNode | null;
    const siteLevel = topicLevel(site);
    const filters: Array<[string, (topic: string, payload: Buffer) => Promise<void>]> = [
      [`${TOPIC_ROOT}/${siteLevel}/+/+/delivery`, guarded(onDelivery)],
      [`${TOPIC_ROOT}/${siteLevel}/+/+/result`, guarded(onDevice)],
      [`${TOPIC_ROOT}/${siteLevel}/+/+/qc`, guarded(onDevice)],
    ];
    const busConnection = subscribeOnBus(node, busNode, filters, {
      subscribed: guard(writeQueues),
      failed: (reason) => {
        status.failing(RED._('passerelle-influx-out.status.bus-down'));
        node.error(RED._('passerelle-influx-out.errors.bus', { reason }));
      },
    });
    if (!busNode) node.warn(RED._('passerelle-influx-out.errors.no-bus'));

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      clearInterval(queueTimer);
      clearInterval(silenceTimer);
      const closing = async () => {
        await busConnection?.close();
        await writer.stop();
        store.close();
      };
      closing().then(done, (err: unknown) => {
        node.error(shortError(err, 200));
        done();
      });
    });
  }
  RED.nodes.registerType<Node<InfluxCredentials>, InfluxOutDef, unknown, InfluxCredentials>('passerelle-influx-out', InfluxOutNode, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });
};
