export { AstmParseError } from './errors';
export { DEFAULT_DELIMITERS, readDelimiters, type Delimiters, type HeaderDelimiters } from './delimiters';
export { escapeText, unescapeText } from './escape';
export { AstmRecord, KNOWN_RECORD_TYPES, type Field, type Repeat, type KnownRecordType } from './record';
export {
  parseMessage, parseMessages, splitRecords, decodeAstmText,
  type AstmMessage, type Annotated, type PatientGroup, type OrderGroup, type ResultGroup, type QueryGroup,
} from './parser';
export { writeRecord, writeMessage, type FieldInput, type RecordInput } from './writer';
