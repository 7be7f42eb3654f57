/**
 * A node's durable subscriptions on its bus: connected and kept up by keepBusConnected, and
 * counted in the hub's readiness, so the hub says healthy only once they are in place (a result
 * published before would find no durable subscriber to keep it for).
 */
import type { Node, NodeMessageInFlow } from 'node-red';
import { keepBusConnected, type BusConnection, type DurableHandler } from '../adapters/bus';
import * as readiness from '../adapters/common/readiness';
import type { BusNode } from './bus/bus';
import { shortError } from './status';

/** An input the node journaled as refused: acknowledging it is right, a redelivery would not make it valid. */
export class RefusedInputError extends Error {}

/**
 * A bus handler around `accept`, which journals what it is given: an input refused (and journaled
 * so) is reported to Catch nodes and acknowledged; any other failure (the store could not write)
 * leaves it unacknowledged, and the broker delivers it again.
 */
export function journalingHandler(node: Node, accept: (payload: Buffer, channel: string) => unknown): DurableHandler {
  return async (topic, payload) => {
    try {
      accept(payload, `mqtt:${topic}`);
    } catch (err) {
      if (!(err instanceof RefusedInputError)) throw err;
      node.error(err.message, { topic, payload: { error: err.message } });
    }
  };
}

/**
 * The node's input, for what a wire brings instead of the bus: bytes or text as they are, an
 * object as its JSON (handed over parsed too); a refusal or a store failure goes to done(err).
 */
export function acceptFromWire(node: Node, accept: (payload: Buffer, channel: string, parsed?: unknown) => unknown): void {
  node.on('input', (msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => {
    const value = msg.payload;
    try {
      if (Buffer.isBuffer(value) || typeof value === 'string') accept(Buffer.from(value), `wire:${node.id}`);
      else accept(Buffer.from(JSON.stringify(value ?? null)), `wire:${node.id}`, value);
      done();
    } catch (err) {
      done(err as Error);
    }
  });
}

export interface SubscriptionEvents {
  /** Every subscription is in place (also after reconnecting to a broker that was away). */
  subscribed?: () => void;
  /** Connecting or subscribing failed; it is tried again. `reason` is short and has no patient data. */
  failed: (reason: string) => void;
}

/** Undefined when the node has no bus. */
export function subscribeOnBus(
  node: Node,
  busNode: BusNode | null,
  subscriptions: Array<[filter: string, handler: DurableHandler]>,
  events: SubscriptionEvents,
): BusConnection | undefined {
  if (!busNode) return undefined;
  readiness.starts(node.id, `${node.type} ${node.id}: bus subscriptions`);
  node.on('close', () => readiness.forget(node.id));
  return keepBusConnected(
    () => busNode.connect(node),
    async (client) => {
      client.on('error', (err: Error) => node.warn(`bus: ${shortError(err, 200)}`));
      for (const [filter, handler] of subscriptions) await client.subscribeDurable(filter, handler);
      readiness.ready(node.id);
      events.subscribed?.();
    },
    (err) => {
      const reason = shortError(err, 200);
      readiness.failedToStart(node.id, `${node.type} ${node.id}: ${reason}`);
      events.failed(reason);
    },
  );
}
