/**
 * OPC UA adapter: a client that keeps its connection and session up by itself, watched
 * variables with source timestamps, and a LADS (OPC 30500) follower whose results become
 * canonical results through a mapping table. Plain TypeScript on node-opcua, no Node-RED.
 * See docs/opcua.md.
 */
export * from './client';
export * from './values';
export * from './watch';
export * from './lads/names';
export * from './lads/profile';
export * from './lads/mapping';
export * from './lads/follower';
