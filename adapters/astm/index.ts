/**
 * ASTM adapter: point-of-care and laboratory analysers speaking E1381 (LIS01-A2, the link over
 * RS-232 or TCP) and E1394 (LIS02-A2, the records), read into canonical results. Plain
 * TypeScript, no Node-RED. See docs/astm.md.
 *
 * - link/: the E1381 state machine (receiver and sender, timers on an injectable clock)
 * - records/: E1394 parser and writer
 * - profiles/: device models as data (JSON) and their loader
 * - mapping/: parsed message + profile → canonical results
 */
export * from './link';
export * from './records';
export * from './profiles';
export * from './mapping';
