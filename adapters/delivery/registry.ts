/**
 * The delivery workers running in this process, by destination, so that the hub API can wake
 * the right one after a re-send without knowing which node owns it.
 */
const kickers = new Map<string, () => void>();

export function registerDestination(destination: string, kick: () => void): () => void {
  kickers.set(destination, kick);
  return () => {
    if (kickers.get(destination) === kick) kickers.delete(destination);
  };
}

/** Wakes the worker of a destination; false when none runs here (it will look at its next start). */
export function kickDestination(destination: string): boolean {
  const kick = kickers.get(destination);
  kick?.();
  return kick !== undefined;
}
