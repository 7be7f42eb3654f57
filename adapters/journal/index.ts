/** The durable store: journal of inbound bytes, outbound queues, results index. See docs/journal-and-delivery.md. */
export { Store, DATABASE_FILE, type StoreInfo } from './store';
export { INTERRUPTED_REASON } from './outbound';
export { CONTROL_ID_MAX_LENGTH } from './ids';
export { SchemaTooNewError, SCHEMA_VERSION } from './schema';
export * from './types';
export { CommitmentIndex, type CommitmentItem, type CommitmentReportOutcome, type CommitmentState } from './commitments';
export { ImagingIndex, type ScheduledStepInput, type ScheduledStep, type PerformedStep, type PerformedStatus, type ImagingStudy, type StepStatus } from './imaging';
