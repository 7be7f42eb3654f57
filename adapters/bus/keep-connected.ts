/**
 * Connects a node to its bus and keeps trying until it succeeds or the node closes: a broker
 * that is restarting when the flows start must not leave a node without its subscription.
 */
import type { Node } from 'node-red';
import type { BusClient } from '../../adapters/bus';
import type { BusNode } from '../bus/bus';

const RETRY_MS = 5000;

export interface BusConnection {
  /** The client once connected and set up, else undefined. */
  current(): BusClient | undefined;
  close(): Promise<void>;
}

export function connectBus(
  busNode: BusNode,
  owner: Node,
  setUp: (client: BusClient) => Promise<void>,
  onFailure: (err: unknown) => void,
): BusConnection {
  let client: BusClient | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const attempt = async () => {
    let candidate: BusClient | undefined;
    try {
      candidate = await busNode.connect(owner);
      if (closed) return void (await candidate.close());
      await setUp(candidate);
      client = candidate;
    } catch (err) {
      await candidate?.close().catch(() => undefined);
      if (closed) return;
      onFailure(err);
      timer = setTimeout(() => void attempt(), RETRY_MS);
    }
  };
  void attempt();

  return {
    current: () => client,
    close: async () => {
      closed = true;
      clearTimeout(timer);
      await client?.close();
    },
  };
}
