import { EventEmitter } from 'node:events';
import { connect as mqttConnect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { topicMatches } from './topic-filter';

export interface BusOptions {
  /** mqtt:// or mqtts:// */
  url: string;
  username?: string;
  password?: string;
  /** Stable across restarts: it names the persistent session the broker keeps for us. */
  clientId: string;
  ca?: Buffer;
  rejectUnauthorized?: boolean;
  connectTimeoutMs?: number;
}

export type DurableHandler = (topic: string, payload: Buffer) => Promise<void>;

const RECONNECT_PERIOD_MS = 1000;
/** After a handler fails, the connection is dropped this much later so the broker redelivers. */
const REDELIVER_AFTER_MS = 1000;
/** How long a message waits for its handler before the connection reads on without it. */
const HANDLER_GRACE_MS = 250;
/** Messages still without a handler after this are reported (they stay queued). */
const UNHANDLED_WARNING_MS = 5000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

const CONNACK_REFUSALS: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad username or password',
  5: 'not authorized (credentials missing or wrong)',
  134: 'bad username or password',
  135: 'not authorized',
};

/**
 * An MQTT client for the bus with at-least-once consumption: a message is acknowledged (PUBACK)
 * only after its handler has resolved, so a message whose handler did not finish is redelivered
 * by the broker from the persistent session (clean: false).
 */
export class BusClient extends EventEmitter {
  private readonly client: MqttClient;
  private readonly handlers = new Map<string, DurableHandler>();
  private readonly handlerAdded = new EventEmitter();
  private readonly pendingPublishes = new Set<(err: Error) => void>();
  /** Topics of messages left unacknowledged on this connection because no handler matched. */
  private readonly skipped = new Set<string>();
  private unhandledTimer: NodeJS.Timeout | undefined;
  /** Bumped on every connect and disconnect: an acknowledgement never crosses connections. */
  private link = 0;
  private closed = false;
  private online = false;
  private quietUntilConnected = false;
  private redeliverTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly options: BusOptions) {
    super();
    const mqttOptions: IClientOptions = {
      clientId: options.clientId,
      clean: false,
      protocolVersion: 4, // MQTT 3.1.1: what aedes speaks, and Mosquitto too
      username: options.username,
      password: options.password,
      ca: options.ca,
      rejectUnauthorized: options.rejectUnauthorized ?? true,
      reconnectPeriod: RECONNECT_PERIOD_MS,
      connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      // a broker restarting may refuse for a moment: keep trying once we have been in
      reconnectOnConnackError: true,
    };
    this.client = mqttConnect(options.url, mqttOptions);
    this.client.handleMessage = (packet, ack) => this.onMessage(packet, ack);
    // reported by connect() and connectionError(); an EventEmitter 'error' nobody hears would throw
    this.client.on('error', () => undefined);
    this.client.on('connect', () => {
      this.link++;
      this.online = true;
      this.quietUntilConnected = false;
      this.skipped.clear(); // a new connection brings every unacknowledged message again
      this.emit('connect');
    });
    this.client.on('close', () => {
      this.link++;
      // 'close' also ends every failed reconnection attempt: report the loss once
      if (this.online && !this.closed) this.emit('offline');
      this.online = false;
    });
  }

  /** Resolves on the first CONNACK; rejects on refusal, TLS trouble, or no broker in time. */
  static connect(options: BusOptions): Promise<BusClient> {
    const bus = new BusClient(options);
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      let lastError: Error | undefined;
      const done = (err?: Error) => {
        clearTimeout(timer);
        bus.client.off('connect', onConnect);
        bus.client.off('error', onError);
        if (!err) {
          bus.client.on('error', (e: Error) => bus.connectionError(e));
          return resolve(bus);
        }
        bus.close().finally(() => reject(err));
      };
      const onConnect = () => done();
      const onError = (err: Error & { code?: number | string }) => {
        lastError = err;
        const fatal = describeFatal(options, err);
        if (fatal) done(fatal);
      };
      const timer = setTimeout(() => done(new Error(
        `bus: cannot connect to ${options.url} as ${options.clientId} within ${timeoutMs} ms` +
        (lastError ? ` (last error: ${lastError.message})` : ' (no answer)'),
      )), timeoutMs);
      bus.client.on('connect', onConnect);
      bus.client.on('error', onError);
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** QoS 1 subscription whose messages are acknowledged only when `handler` resolves. */
  async subscribeDurable(filter: string, handler: DurableHandler): Promise<void> {
    if (this.closed) throw new Error('bus: client closed');
    // registered before SUBACK: a persistent session may deliver queued messages right away
    this.handlers.set(filter, handler);
    this.handlerAdded.emit('added');
    try {
      const granted = await this.client.subscribeAsync(filter, { qos: 1 });
      // mqtt.js rejects on a 0x80 grant; older releases resolved with it
      if (granted.some((g) => g.qos === 0x80)) throw new Error('SUBACK 0x80');
    } catch (err) {
      this.handlers.delete(filter);
      throw new Error(`bus: ${this.options.url} refused the subscription to ${filter} for ${this.options.clientId}`, { cause: err });
    }
    // messages that came before this handler are still on the broker: have them sent again
    if ([...this.skipped].some((topic) => topicMatches(filter, topic))) {
      this.skipped.clear();
      this.redeliverSoon(0);
    }
  }

  /** Resolves when the broker acknowledges (QoS 1, the default) or the packet is written (QoS 0). */
  publish(topic: string, payload: Buffer | string, options: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    if (this.closed) return Promise.reject(new Error('bus: client closed'));
    return new Promise((resolve, reject) => {
      this.pendingPublishes.add(reject);
      // while offline, mqtt.js keeps the message and sends it again after reconnecting
      this.client.publish(topic, payload, { qos: options.qos ?? 1, retain: options.retain ?? false }, (err) => {
        this.pendingPublishes.delete(reject);
        if (err) reject(new Error(`bus: publish on ${topic} failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.link++;
    clearTimeout(this.redeliverTimer);
    clearTimeout(this.unhandledTimer);
    this.handlerAdded.emit('added');
    const unacknowledged = this.pendingPublishes.size;
    for (const reject of this.pendingPublishes) reject(new Error('bus: client closed before the broker acknowledged the message'));
    this.pendingPublishes.clear();
    // a polite DISCONNECT when we can; otherwise just drop the socket (the session stays on the broker)
    const force = !this.client.connected || unacknowledged > 0;
    await new Promise<void>((resolve) => this.client.end(force, () => resolve()));
  }

  /**
   * mqtt.js sends the PUBACK when `ack()` is called, and reads nothing more from the connection
   * until then (not even a SUBACK or PINGRESP); `ack(err)` moves on without a PUBACK.
   */
  private onMessage(packet: IPublishPacket, ack: (err?: Error) => void): void {
    const link = this.link;
    const { topic } = packet;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const matching = this.handlersFor(topic);
    // behind a message of the same topic left for redelivery: wait for it, to keep the order
    if (this.skipped.has(topic)) return this.skip(topic, link, ack);
    if (matching.length > 0) return this.handle(packet, payload, matching, link, ack);
    // the session delivers before this process has re-declared its handlers: give it a moment,
    // once per connection (the rest will come again with the first)
    const grace = this.skipped.size > 0 ? 0 : HANDLER_GRACE_MS;
    void this.waitForHandler(topic, grace).then((handlers) => {
      if (this.closed) return;
      if (handlers.length > 0) return this.handle(packet, payload, handlers, link, ack);
      // still none: keep reading (the handler may be declared after a SUBACK queued behind this
      // message) and leave this one unacknowledged; the broker keeps it for the session
      this.skip(topic, link, ack);
    });
  }

  private handle(packet: IPublishPacket, payload: Buffer, handlers: DurableHandler[], link: number, ack: (err?: Error) => void): void {
    const run = async () => { for (const handler of handlers) await handler(packet.topic, payload); };
    run().then(
      () => {
        // a PUBACK from an old connection would be queued by mqtt.js and sent on the new one,
        // where the same message id may name another message: drop it, the broker redelivers
        if (link === this.link) ack();
      },
      (err: unknown) => {
        if (this.closed) return;
        const reason = err instanceof Error ? err.message : String(err);
        this.report(new Error(`bus: handler for ${packet.topic} failed, message not acknowledged: ${reason}`, { cause: err }));
        if (packet.qos === 0) { if (link === this.link) ack(); return; } // nothing to redeliver
        if (link === this.link) this.redeliverSoon();
      },
    );
  }

  private handlersFor(topic: string): DurableHandler[] {
    return [...this.handlers].filter(([filter]) => topicMatches(filter, topic)).map(([, h]) => h);
  }

  private waitForHandler(topic: string, ms: number): Promise<DurableHandler[]> {
    return new Promise((resolve) => {
      const check = () => {
        const matching = this.handlersFor(topic);
        if (matching.length > 0 || this.closed) { cleanup(); resolve(matching); }
      };
      const timer = setTimeout(() => { cleanup(); resolve([]); }, ms);
      const cleanup = () => { clearTimeout(timer); this.handlerAdded.off('added', check); };
      this.handlerAdded.on('added', check);
    });
  }

  /** Leaves a message unacknowledged, for want of a handler, and reads on. */
  private skip(topic: string, link: number, ack: (err?: Error) => void): void {
    ack(new Error(`no handler for ${topic} yet`)); // no PUBACK
    if (link !== this.link) return;
    this.skipped.add(topic);
    this.unhandledTimer ??= setTimeout(() => {
      this.unhandledTimer = undefined;
      if (this.skipped.size === 0 || this.closed) return;
      this.report(new Error(`bus: messages on ${[...this.skipped].join(', ')} match no handler of ${this.options.clientId}; ` +
        'they stay queued until subscribeDurable() covers them (an old subscription of this session?)'));
    }, UNHANDLED_WARNING_MS);
  }

  /** Dropping the connection makes the broker send every unacknowledged message again. */
  private redeliverSoon(afterMs = REDELIVER_AFTER_MS): void {
    if (this.redeliverTimer) return;
    this.redeliverTimer = setTimeout(() => {
      this.redeliverTimer = undefined;
      if (!this.closed && this.client.connected) this.client.stream.destroy();
    }, afterMs);
  }

  /** While offline, only the first failed attempt is reported, not one per reconnection period. */
  private connectionError(err: Error): void {
    if (this.closed || (!this.online && this.quietUntilConnected)) return;
    if (!this.online) this.quietUntilConnected = true;
    this.report(new Error(`bus ${this.options.url}: ${err.message}`, { cause: err }));
  }

  /** 'error' without a listener would crash the hub: warn instead. */
  private report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(err.message, 'PasserelleBusWarning');
  }
}

function describeFatal(options: BusOptions, err: Error & { code?: number | string }): Error | undefined {
  if (typeof err.code === 'number') {
    const why = CONNACK_REFUSALS[err.code] ?? err.message;
    return new Error(`bus: ${options.url} refused client ${options.clientId}: ${why} (CONNACK ${err.code})`, { cause: err });
  }
  if (typeof err.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(err.code)) {
    return new Error(`bus: TLS to ${options.url} failed: ${err.message} (${err.code}); check the CA given to the bus`, { cause: err });
  }
  return undefined;
}
