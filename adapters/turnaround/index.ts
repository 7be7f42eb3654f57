/** Turnaround: the intervals of a result's life, its targets, and the key figures. Pure functions. See docs/turnaround.md. */
export { INTERVALS, type IntervalName, type Moment } from './intervals';
export { DEFAULT_TARGETS, DEFAULT_TARGET_INTERVAL, parseTargets, targetFor, type KindTargets, type Target, type Targets } from './targets';
export {
  computeTurnaround, DEFAULT_MAX_DEVICE_LEAD_HOURS, examCode, isFinal, lifeOfImagingObject, lifeOfResult, turnaroundOfLife, turnaroundsOf,
  type DeliveryLife, type Life, type Turnaround, type TurnaroundOptions,
} from './turnaround';
export { keyFigures, median, percentile, type DayShare, type FigureOptions, type HourVolume, type KeyFigures, type Spread } from './figures';
export { deliveryAlert, overTargetAlert, SilenceWatch, type Alert, type AlertType, type DeliveryAlertFact } from './alerts';
