/**
 * HL7v2 + MLLP adapter: our own small ER7 codec (see docs/hl7.md for why), the ORU^R01 a
 * French record expects, acknowledgements, and MLLP over TCP or TLS. Plain TypeScript, no
 * Node-RED.
 */
export type { Hl7Charset, EncodedMessage, DecodedMessage } from './charset';
export { encodeMessage, decodeMessage, toHl7Charset, charsetFromDeclared } from './charset';
export type { Delimiters } from './delimiters';
export { STANDARD_DELIMITERS } from './delimiters';
export { escapeText, unescapeText } from './escape';
export { Hl7Message, Hl7Segment, splitMessages, type Hl7Field } from './message';
export type { Hl7Path, FieldPath } from './path';
export { Hl7ParseError, Hl7BuildError, MllpTimeoutError, MllpConnectionError, MllpFrameError, type MllpFrameErrorReason } from './errors';
export { buildOru, ORU_VERSION, type OruOptions } from './oru';
export { buildPcd01Oru, PCD01_VERSION, PCD01_PROFILE, MONITORING_OF_PATIENT, type Pcd01Coding } from './pcd01';
export { readPcd01, isPcd01, type Pcd01Reading, type Pcd01Row } from './pcd01-read';
export { buildAck, readAck, type AckCode, type AckInfo, type AckOptions } from './ack';
export { formatDateTime, formatDate, DEFAULT_TIME_ZONE } from './time';
export { MLLP_START, MLLP_END, MLLP_CR, frame } from './mllp/frame';
export { MllpDecoder, DEFAULT_MAX_MESSAGE_BYTES, type MllpDecoded } from './mllp/decoder';
export { MllpServer, type MllpServerOptions, type MllpFrameErrorEvent } from './mllp/server';
export { MllpClient, type MllpClientOptions } from './mllp/client';
export { extractOrders, isOrderMessage, extractImagingOrders, isImagingOrderMessage, type ImagingOrder, patientOf, INS_NIR_OID, type ExtractedOrder, type OrderExtractOptions, type SpecimenSource } from './orders';
export { gpOf, GP_ROLE_CODES, RPPS_OID, type GpExtractOptions, type GpFallback } from './gp';
