// aedes-persistence-level ships no types. Aedes 1.x wants the async class directly (its
// package main wraps it in a callback adapter that Aedes.listen() refuses).
declare module 'aedes-persistence-level/asyncPersistence.js' {
  import type { AbstractLevel } from 'abstract-level';
  class AsyncLevelPersistence {
    constructor(db: AbstractLevel<any, any, any>);
    outgoingUpdate(client: { id: string }, packet: object): Promise<void>;
    destroy(): Promise<void>;
  }
  export = AsyncLevelPersistence;
}
