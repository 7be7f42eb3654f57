/**
 * An input node's outbox published on its bus: drained when the bus connects (what a crash left
 * unpublished), after every reconnect, and whenever the node has journaled something new.
 */
import type { Node } from 'node-red';
import { keepBusConnected } from '../adapters/bus';
import type { Outbox } from '../adapters/outbox';
import type { BusNode } from './bus/bus';

export interface OutboxOnBus {
  /** Something new is in the journal: publish it now if the bus is there (else at connect). */
  drain(): void;
  close(): Promise<void>;
}

export function outboxOnBus(busNode: BusNode | null, owner: Node, outbox: Outbox, onFailure: (err: unknown) => void): OutboxOnBus {
  const connection = busNode
    ? keepBusConnected(
        () => busNode.connect(owner),
        async (client) => {
          client.on('connect', () => void outbox.drain(client));
          void outbox.drain(client);
        },
        onFailure,
      )
    : undefined;
  return {
    drain: () => {
      const client = connection?.current();
      if (client) void outbox.drain(client);
    },
    close: async () => {
      await connection?.close();
    },
  };
}
