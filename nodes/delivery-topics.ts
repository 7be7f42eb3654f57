/**
 * Where each delivery event of a destination node goes on the bus: the topic of the result (or
 * imaging event) it delivers, remembered when it was queued, and forgotten once the delivery is
 * final; after a restart, when the node no longer knows it, the hub's own topic for the node.
 */
import type { DeliveryEvent } from '../adapters/delivery';
import { topicFor } from '../adapters/model';

export class DeliveryTopics {
  private readonly topics = new Map<string, string>();
  private readonly fallback: string;

  constructor(site: string, nodeId: string) {
    this.fallback = topicFor({ site, kind: 'hub', source: nodeId, event: 'delivery' });
  }

  remember(resultId: string, topic: string): void {
    this.topics.set(resultId, topic);
  }

  /** The topic of this event. */
  of(event: DeliveryEvent): string {
    const topic = (event.resultId && this.topics.get(event.resultId)) || this.fallback;
    if (event.resultId && (event.state === 'accepted' || event.state === 'dead')) this.topics.delete(event.resultId);
    return topic;
  }
}
