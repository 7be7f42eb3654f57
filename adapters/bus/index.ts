/**
 * The MQTT bus: an embedded broker whose accepted messages survive a crash, and a client that
 * acknowledges a message only once its handler has made it durable. See docs/bus.md.
 */
export { startBroker, type BrokerOptions, type RunningBroker } from './broker';
export { BusClient, type BusOptions, type DurableHandler } from './client';
export { topicMatches } from './topic-filter';
export { keepBusConnected, type BusConnection } from './keep-connected';
