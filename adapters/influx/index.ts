/** InfluxDB: the points of docs/metrics.md, and a writer that keeps them on disk until InfluxDB has them. See docs/metrics.md. */
export {
  devicePoint, deliveryPoint, influxSchema, pointTime, queuePoint, textDiscriminator, turnaroundPoint,
  type DeliveryFact, type DeviceFact, type MetricPoint, type QueueFact,
} from './points';
export { InfluxWriter, DEFAULT_DATABASE, DEFAULT_RETENTION, DEFAULT_RETENTION_POLICY, type InfluxTarget, type InfluxWriterOptions, type WriterStatus } from './writer';
export { durationHours } from './setup';
export { classifyWriteError, type WriteFailure } from './errors';
export { fromDelivery, fromDeviceMessage, queuePoints, UnreadableMessageError, type DeviceSeen, type FromBus } from './bus-events';
