// aedes-persistence-level ships no types. We use its async class directly: its package main
// wraps that class in a callback adapter made for aedes 0.x; OrderedLevelPersistence extends it.
declare module 'aedes-persistence-level/asyncPersistence.js' {
  import type { AbstractLevel } from 'abstract-level';
  class AsyncLevelPersistence {
    constructor(db: AbstractLevel<any, any, any>);
    outgoingUpdate(client: { id: string }, packet: object): Promise<void>;
    destroy(): Promise<void>;
  }
  export = AsyncLevelPersistence;
}
