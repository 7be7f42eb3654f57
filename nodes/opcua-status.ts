/** The OPC UA nodes' dots for their shared connection (texts in the passerelle-opcua-client catalogue). */
import type { NodeAPI } from 'node-red';
import type { StateEvent } from '../adapters/opcua';
import { shortError, type NodeStatus } from './status';

/**
 * A user node's dot for the shared connection's state, the same words on every OPC UA node:
 * green connected (with `connectedText`), yellow connecting or reconnecting, red lost or refused.
 */
export function showConnection(RED: NodeAPI, status: NodeStatus, event: StateEvent, connectedText?: string): void {
  switch (event.state) {
    case 'connected': return status.working(connectedText ?? RED._('passerelle-opcua-client.status.connected'));
    case 'connecting': return status.waiting(RED._('passerelle-opcua-client.status.connecting'));
    case 'reconnecting': return status.waiting(RED._('passerelle-opcua-client.status.reconnecting', { attempt: event.attempt ?? 1 }));
    case 'lost': return status.failing(RED._('passerelle-opcua-client.status.lost'));
    case 'failed': return status.failing(shortError(event.error ?? RED._('passerelle-opcua-client.status.failed'), 19));
    case 'closed': return status.idle(RED._('passerelle-opcua-client.status.closed'));
  }
}

