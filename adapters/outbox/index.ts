/**
 * The outbox of an input: what came in is journaled first (with the topic it must go to),
 * acknowledged to the sender, then published on the bus and marked published once the broker
 * has acknowledged it. After a crash, entries still unpublished are published again at start.
 */
import type { Store, InboundEntry } from '../journal';

export interface OutboxPublisher {
  publish(topic: string, payload: Buffer | string): Promise<void>;
}

export class Outbox {
  private draining: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly store: Store,
    private readonly channel: string,
    private readonly render: (entry: InboundEntry) => Buffer | string,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Publishes every unpublished entry of this channel, oldest first; one drain at a time. */
  drain(bus: OutboxPublisher): Promise<void> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = this.run(bus).finally(() => {
      this.draining = undefined;
      if (this.again) {
        this.again = false;
        void this.drain(bus);
      }
    });
    return this.draining;
  }

  private async run(bus: OutboxPublisher): Promise<void> {
    for (;;) {
      const batch = this.store.unpublished(200, this.channel);
      if (batch.length === 0) return;
      for (const entry of batch) {
        try {
          await bus.publish(entry.publishTopic!, this.render(entry));
          this.store.markPublished(entry.id);
        } catch (err) {
          this.onError(err as Error); // stays unpublished: the next drain or the next start retries
          return;
        }
      }
    }
  }
}
