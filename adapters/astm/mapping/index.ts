export { mapMessage, resultStatus, type MappingContext, type MappedMessage, type SkippedOrder } from './map';
export { mapTransfer, type MappedTransfer } from './transfer';
export { parseAstmDate, formatInstant, zoneOffsetMinutes, type AstmDate } from './time';
export { typeValue, readNumber, readRange, readFlags, type TypedValue, type ReferenceRange } from './values';
export { COMMON_UNITS, toUcum } from './units';
