/**
 * Connects to the bus and keeps trying until it succeeds or is closed: a broker that is
 * restarting when the hub starts must not leave a node or the hub API without its client.
 * Once connected, the client reconnects by itself.
 */
import type { BusClient } from './client';

const RETRY_MS = 5000;

export interface BusConnection {
  /** The client once connected and set up, else undefined. */
  current(): BusClient | undefined;
  close(): Promise<void>;
}

export function keepBusConnected(
  connect: () => Promise<BusClient>,
  setUp: (client: BusClient) => Promise<void>,
  onFailure: (err: unknown) => void,
): BusConnection {
  let client: BusClient | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const attempt = async () => {
    let candidate: BusClient | undefined;
    try {
      candidate = await connect();
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
