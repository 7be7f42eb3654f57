/**
 * What is still starting in this process. The hub reports healthy only when every input is
 * listening and every bus subscription is in place: before that, a result published on the
 * bus could be acknowledged by the broker with no durable subscriber to keep it for.
 */
const starting = new Map<string, string>();
const failed = new Map<string, string>();

export function starts(id: string, what: string): void {
  starting.set(id, what);
  failed.delete(id);
}

export function ready(id: string): void {
  starting.delete(id);
  failed.delete(id);
}

export function failedToStart(id: string, reason: string): void {
  starting.delete(id);
  failed.set(id, reason);
}

export function forget(id: string): void {
  starting.delete(id);
  failed.delete(id);
}

export function readiness(): { ready: boolean; starting: string[]; failed: string[] } {
  return {
    ready: starting.size === 0 && failed.size === 0,
    starting: [...starting.values()],
    failed: [...failed.entries()].map(([, reason]) => reason),
  };
}
