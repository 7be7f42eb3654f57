export * from './result';
export * from './topics';
export { validateResult, parseResult, InvalidResultError } from './validate';
