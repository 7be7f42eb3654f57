/** The delivery worker: one destination's FIFO over a Transport. See docs/journal-and-delivery.md. */
export { DeliveryWorker, type DeliveryEvent, type DeliveryState, type DeliveryStatus, type DeliveryWorkerOptions } from './worker';
export { classifyFailure, isPositive, type AckCode, type AckInfo, type SendFailure, type Transport } from './transport';
export { systemClock, type Clock } from '../common/clock';
export { backoffDelay, DEFAULT_BACKOFF, type Backoff } from './backoff';
