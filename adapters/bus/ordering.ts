import type { Aedes } from 'aedes';
import AsyncLevelPersistence = require('aedes-persistence-level/asyncPersistence.js');

/**
 * Why: aedes gives every message a rising brokerCounter when broker.publish() starts, and
 * drops, for an online subscriber, any message whose counter is not above the last one it
 * delivered to it (lib/client.js dedupe, meant for overlapping subscriptions). With a disk
 * persistence, QoS 1 messages reach delivery only after their queue write, and those writes
 * finish out of order: measured, 1 to 6 of 200 burst messages silently held back from an online
 * subscriber until it reconnects (aedes issue #955). So publishes go through one at a time until
 * they reach the emitter; the queue writes still overlap with delivery and socket writes.
 */
export function serializePublishes(broker: Aedes, onStall: (err: Error) => void, stallMs = 5000): void {
  type Done = (err?: Error) => void;
  const target = broker as unknown as {
    publish(packet: object, client: unknown, done?: Done): void;
    mq: { emit(packet: object, cb?: () => void): void };
  };
  const publish = target.publish.bind(broker);
  const emit = target.mq.emit.bind(target.mq);
  const waiting: Array<() => void> = [];
  let busy = false;
  /** The publish in flight: what its emitted packet carries, and how to let the next one go. */
  let inFlight: { topic: string; payload: unknown; release: () => void } | undefined;

  const next = () => {
    const start = waiting.shift();
    if (start) start();
    else busy = false;
  };

  target.mq.emit = (packet, cb) => {
    const p = packet as { topic?: string; payload?: unknown };
    const current = inFlight && inFlight.topic === p.topic && inFlight.payload === p.payload ? inFlight : undefined;
    emit(packet, cb); // before releasing: a QoS 0 publish started now would emit at once
    current?.release();
  };

  target.publish = (packet: object, client: unknown, done?: Done) => {
    if (typeof client === 'function') { done = client as Done; client = null; }
    const { topic, payload } = packet as { topic: string; payload: unknown };
    const run = () => {
      let released = false;
      // a publish that neither reaches the emitter nor fails (aedes swallows some persistence
      // errors) must not stop the broker
      const watchdog = setTimeout(() => {
        onStall(new Error(`a publish on ${topic} stalled for ${stallMs} ms; letting the next one through`));
        finish();
      }, stallMs);
      const finish = () => {
        if (released) return;
        released = true;
        clearTimeout(watchdog);
        if (inFlight?.release === finish) inFlight = undefined;
        next();
      };
      inFlight = { topic, payload, release: finish };
      publish(packet, client, (err?: Error) => { finish(); done?.(err); });
    };
    if (busy) waiting.push(run);
    else { busy = true; run(); }
  };
}

/**
 * The level persistence, with each client's outgoing updates (done just before a message is
 * written to that subscriber) completing in the order they were asked for, so the socket sees
 * messages in the order they were published.
 */
export class OrderedLevelPersistence extends AsyncLevelPersistence {
  private readonly tails = new Map<string, Promise<unknown>>();

  override outgoingUpdate(client: { id: string }, packet: object): Promise<void> {
    const work = super.outgoingUpdate(client, packet);
    // its failure reaches the caller through `ordered`, maybe later: not an unhandled rejection
    // (which would end the process)
    work.catch(() => undefined);
    const previous = this.tails.get(client.id);
    const ordered = previous ? previous.then(() => work, () => work) : work;
    const tail = ordered.catch(() => undefined);
    this.tails.set(client.id, tail);
    void tail.then(() => { if (this.tails.get(client.id) === tail) this.tails.delete(client.id); });
    return ordered;
  }
}
