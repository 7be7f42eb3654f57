/** Prunes the journal and the delivered messages by age and size, hourly and at start. */
import type { Store } from '../adapters/journal';
import type { HubConfig } from './config';

const HOUR = 3_600_000;

export function startRetention(store: Store, retention: HubConfig['retention'], every = HOUR): { stop(): void } {
  const policy = { maxAgeMs: retention.maxAgeDays * 24 * HOUR, maxBytes: retention.maxMegabytes * 1024 * 1024 };
  const prune = () => store.prune(policy, Date.now());
  prune();
  const timer = setInterval(prune, every);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
