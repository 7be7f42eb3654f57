/**
 * What "GP mail out" and "GP folder out" share: a durable outbound queue for this node (the
 * journal's), a DeliveryWorker over the node's Transport, delivery events on the bus (topic of
 * the report's results, so the results board and the turnaround metrics see them) and on the
 * output, a status dot refreshed from the queue's depth, and an input that queues a report's
 * files in one commit (done() once it is on disk, done(err) when it cannot be queued).
 */
import type { Node, NodeAPI, NodeMessageInFlow } from 'node-red';
import { keepBusConnected } from '../adapters/bus';
import { DeliveryWorker, type DeliveryEvent, type Transport } from '../adapters/delivery';
import { registerDestination } from '../adapters/delivery/registry';
import type { Enqueued, Store } from '../adapters/journal';
import type { BusNode } from './bus/bus';
import { hubSettings, openStore } from './hub-settings';
import { NodeStatus, shortError } from './status';
import { DeliveryTopics } from './delivery-topics';

export interface GpQueueDef {
  bus: string;
  timeout: string | number;
  maxAttempts: string | number;
  retryMax: string | number;
}

export interface GpQueueOptions {
  /** The node type, whose catalogue has status.queue / status.unreachable / errors.dead / errors.invalid. */
  type: string;
  transport: Transport & { close(): Promise<void> };
  /** Builds the queue entry from an input's payload and enqueues it (throws a clear error when it cannot). */
  enqueue: (store: Store, destination: string, payload: unknown) => Enqueued;
  /** An input that is not a report to queue (a bounce): handled, true; else false. */
  special?: (msg: NodeMessageInFlow, store: Store, publish: (event: DeliveryEvent) => void) => boolean;
}

const STATUS_EVERY_MS = 1000;

/**
 * A GP out node that is not configured (its server or folder unset): grey, and it takes what it
 * is given without queueing it, so "GP message" is not left waiting for a queue that is not there.
 */
export function idleGpQueue(node: Node, text: string): void {
  new NodeStatus(node).idle(text);
  node.on('input', (_msg: NodeMessageInFlow, _send, done) => done());
}

function positive(value: string | number | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

export function runGpQueue(RED: NodeAPI, node: Node, def: GpQueueDef, options: GpQueueOptions): void {
  const status = new NodeStatus(node);
  const settings = hubSettings(RED);
  const destination = node.id;
  const store = openStore(RED);
  const worker = new DeliveryWorker({
    store,
    destination,
    transport: options.transport,
    ackTimeoutMs: positive(def.timeout, 60) * 1000,
    maxAttempts: positive(def.maxAttempts, 5),
    backoff: { initialMs: 1000, maxMs: positive(def.retryMax, 300) * 1000, factor: 2 },
  });
  // Topic of each queued report's deliveries (its results'); after a restart, the hub's topic.
  const topics = new DeliveryTopics(settings.siteId, node.id);
  const busNode = def.bus ? (RED.nodes.getNode(def.bus) as BusNode | null) : null;
  const bus = busNode ? keepBusConnected(() => busNode.connect(node), async () => undefined, (err) => node.warn(`bus: ${shortError(err, 200)}`)) : undefined;

  const publish = (event: DeliveryEvent) => {
    const topic = topics.of(event);
    bus?.current()?.publish(topic, JSON.stringify(event)).catch((err: unknown) => node.warn(`bus: ${shortError(err, 200)}`));
    node.send({ topic, payload: event });
    if (event.state === 'dead') node.error(RED._(`${options.type}.errors.dead`, { outboundId: event.outboundId, reason: event.reason ?? event.ackCode ?? '' }), { topic, payload: event });
  };

  const showStatus = () => {
    const depth = store.depth(destination);
    const queued = depth.pending + depth.waiting + depth.sent;
    const { connected, lastError } = worker.status;
    const text = RED._(`${options.type}.status.queue`, { queued, dead: depth.dead });
    if (lastError && !connected && queued > 0) status.failing(`${RED._(`${options.type}.status.unreachable`)} · ${queued}`);
    else if (depth.waiting > 0 && lastError) status.waiting(`${text} · ${shortError(lastError, 16)}`);
    else status.working(text);
  };

  worker.on('delivery', publish);
  worker.on('error', (err: Error) => node.error(err.message));
  const unregister = registerDestination(destination, () => worker.kick());
  worker.start();
  const statusTimer = setInterval(showStatus, STATUS_EVERY_MS);
  showStatus();

  node.on('input', (msg: NodeMessageInFlow, _send, done) => {
    try {
      if (options.special?.(msg, store, publish)) {
        showStatus();
        return done();
      }
      const queued = options.enqueue(store, destination, msg.payload);
      const resultId = store.getOutbound(queued.id)?.resultId;
      if (!queued.duplicate) {
        if (resultId && typeof msg.topic === 'string' && msg.topic) topics.remember(resultId, msg.topic);
        worker.kick();
      }
      showStatus();
      done();
    } catch (err) {
      done(new Error(RED._(`${options.type}.errors.invalid`, { reason: (err as Error).message })));
    }
  });

  node.on('close', (_removed: boolean, done: () => void) => {
    clearInterval(statusTimer);
    unregister();
    const closing = async () => {
      const stopping = worker.stop();
      await options.transport.close();
      await stopping;
      await bus?.close();
      store.close();
    };
    closing().then(done, (err: unknown) => {
      node.error(shortError(err, 200));
      done();
    });
  });
}
