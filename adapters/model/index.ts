export * from './result';
export * from './topics';
export { validateResult, parseResult, InvalidResultError } from './validate';
export * from './imaging';
export { validateImagingEvent, parseImagingEvent, InvalidImagingEventError } from './validate-imaging';
