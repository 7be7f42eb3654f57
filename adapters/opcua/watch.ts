/**
 * Variables watched on an OPC UA server: one subscription, one monitored item per variable,
 * source and server timestamps asked for (the default returns none). Each change is a `change`
 * event; a variable the server no longer has (its address space changed) is an `item-error`
 * naming it, and the other variables go on. node-opcua re-creates the subscription after a
 * reconnect; one the server terminated anyway is created again here.
 */
import { EventEmitter } from 'node:events';
import {
  AttributeIds, ClientMonitoredItem, ClientSubscription, resolveNodeId, TimestampsToReturn,
  type ClientSession, type DataValue, type NodeId,
} from 'node-opcua';
import type { OpcuaConnection, StateEvent } from './client';
import { plainDataValue, type PlainDataValue } from './values';

export interface WatchedVariable {
  /** ns=2;s=Temperature, i=2258, or nsu=<namespace URI>;s=... (resolved at each connection). */
  nodeId: string;
  /** What the change is called on the output (msg.topic); the node id when empty. */
  name?: string;
}

export interface VariableChange extends PlainDataValue {
  nodeId: string;
  name: string;
}

export interface WatchOptions {
  samplingIntervalMs?: number;
  publishingIntervalMs?: number;
  queueSize?: number;
}

/** Statuses that say the variable itself is gone or was never there. */
const MISSING = new Set(['BadNodeIdUnknown', 'BadNodeIdInvalid', 'BadAttributeIdInvalid', 'BadNotReadable']);

/** A node id as typed, with `nsu=` resolved against the server's namespace array; throws a clear error. */
export function resolveNodeRef(text: string, namespaces: readonly string[]): NodeId {
  const trimmed = text.trim();
  const nsu = /^nsu=([^;]+);(.+)$/.exec(trimmed);
  if (nsu) {
    const index = namespaces.indexOf(nsu[1]);
    if (index < 0) throw new Error(`node ${trimmed}: the server has no namespace ${nsu[1]}`);
    return resolveNodeId(`ns=${index};${nsu[2]}`);
  }
  try {
    return resolveNodeId(trimmed);
  } catch {
    throw new Error(`node ${JSON.stringify(trimmed)} is not an OPC UA node id (ns=2;s=Name, ns=2;i=1001, nsu=<uri>;s=Name)`);
  }
}

/** Whether a node id text can be read (nsu= is checked at connection). */
export function isNodeRef(text: string): boolean {
  if (/^nsu=[^;]+;[isgb]=.+$/.test(text.trim())) return true;
  try {
    resolveNodeId(text.trim());
    return true;
  } catch {
    return false;
  }
}

export class VariableWatch extends EventEmitter {
  private subscription?: ClientSubscription;
  private closed = false;
  private readonly onState = (event: StateEvent) => {
    if (event.state === 'connected' && !this.subscription) void this.create();
  };

  constructor(private readonly connection: OpcuaConnection, readonly variables: readonly WatchedVariable[], private readonly options: WatchOptions = {}) {
    super();
  }

  /** Starts watching once connected (and again after a subscription was lost). */
  start(): void {
    this.connection.on('state', this.onState);
    if (this.connection.session()) void this.create();
  }

  private async create(): Promise<void> {
    const session = this.connection.session();
    if (!session || this.closed) return;
    let subscription: ClientSubscription;
    try {
      subscription = await this.subscribe(session);
    } catch (err) {
      if (!this.closed) this.emit('error', new Error(`subscription on ${this.connection.options.endpointUrl}: ${(err as Error).message}`));
      return;
    }
    if (this.closed) {
      await subscription.terminate().catch(() => undefined);
      return;
    }
    this.subscription = subscription;
    subscription.on('terminated', () => {
      if (this.subscription === subscription) this.subscription = undefined;
      if (!this.closed && this.connection.session()) void this.create();
    });
  }

  private async subscribe(session: ClientSession): Promise<ClientSubscription> {
    const namespaces = await session.readNamespaceArray();
    const subscription = ClientSubscription.create(session, {
      requestedPublishingInterval: this.options.publishingIntervalMs ?? 500,
      requestedLifetimeCount: 600,
      requestedMaxKeepAliveCount: 20,
      maxNotificationsPerPublish: 1000,
      publishingEnabled: true,
      priority: 10,
    });
    // node-opcua emits 'error' when the session went before the subscription was made (a close, a lost line).
    await new Promise<void>((resolve, reject) => {
      subscription.once('started', () => resolve());
      subscription.once('error', reject);
      subscription.once('internal_error', reject);
    });
    subscription.on('error', (err: Error) => {
      if (!this.closed) this.emit('error', new Error(`subscription on ${this.connection.options.endpointUrl}: ${err.message}`));
    });
    for (const variable of this.variables) {
      const name = variable.name || variable.nodeId;
      let nodeId: NodeId;
      try {
        nodeId = resolveNodeRef(variable.nodeId, namespaces);
      } catch (err) {
        this.emit('item-error', { nodeId: variable.nodeId, name, error: err as Error });
        continue;
      }
      const item = ClientMonitoredItem.create(subscription, { nodeId, attributeId: AttributeIds.Value }, {
        samplingInterval: this.options.samplingIntervalMs ?? 250, queueSize: this.options.queueSize ?? 100, discardOldest: true,
      }, TimestampsToReturn.Both);
      item.on('changed', (dataValue: DataValue) => this.changed(variable, name, dataValue));
      item.on('err', (message: string) => this.emit('item-error', { nodeId: variable.nodeId, name, error: new Error(`variable ${variable.nodeId} (${name}) on ${this.connection.options.endpointUrl}: ${message}`) }));
    }
    return subscription;
  }

  private changed(variable: WatchedVariable, name: string, dataValue: DataValue): void {
    const plain = plainDataValue(dataValue);
    if (MISSING.has(plain.status)) {
      this.emit('item-error', {
        nodeId: variable.nodeId, name,
        error: new Error(`variable ${variable.nodeId} (${name}) is not in the address space of ${this.connection.options.endpointUrl} (${plain.status})`),
      });
      return;
    }
    this.emit('change', { ...plain, nodeId: variable.nodeId, name } satisfies VariableChange);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.connection.off('state', this.onState);
    const subscription = this.subscription;
    this.subscription = undefined;
    if (subscription && this.connection.session()) await subscription.terminate().catch(() => undefined);
  }
}
