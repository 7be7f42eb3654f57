/**
 * POCT1-A (CLSI POCT1-A2) adapter: point-of-care devices sending XML over TCP to the hub, the
 * data manager. Plain TypeScript, no Node-RED. See docs/poct1a.md.
 */
export { Poct1DocumentError, Poct1MessageError, type Poct1DocumentErrorReason } from './errors';
export { element, valueElement, child, childrenNamed, valueOf, parseXml, serialize, type XmlElement, type XmlEncoding, type SerializeOptions } from './xml';
export { Poct1Splitter, DEFAULT_MAX_DOCUMENT_BYTES, MESSAGE_ROOT, type Poct1Document, type SplitItem, type SplitterOptions } from './splitter';
export { toRfc3339, formatTimestamp, DEFAULT_TIME_ZONE } from './time';
export { ControlIdSequence } from './control-id';
export { readHeader, controlIdOf, headerElement, messageElement, POCT1_VERSION, type Header } from './hdr';
export { readHel, buildHel, type DeviceIdentity, type DeviceCapabilities } from './hel';
export { readDst, buildDst, type DeviceStatus } from './dst';
export {
  readObs, buildObs, PATIENT_ROLE, type ObservationMessage, type ObservationMessageType, type PoctService, type PoctObservation,
  type PoctPatient, type PoctSpecimen, type ServiceCategory, type ServiceInput, type Coded, type Quantity, type Lot, type ControlMaterial,
} from './obs';
export { readEot, buildEot, type EndOfTopic } from './eot';
export { readAck, buildAck, type Acknowledgement, type AckType } from './ack';
export { readReq, buildReq, type RequestCode } from './req';
export { readEnd, buildEnd, type Termination } from './end';
export { readMessage, Poct1Writer, type Poct1Message, type OutboundMessage, type WriterOptions } from './message';
export { toResults, toResult, resultId, UCUM_UNITS, type MappingContext, type MappedResult, type CodeMap } from './mapping';
export {
  Poct1Manager, systemClock, DEFAULT_IDLE_TIMEOUT_MS, type Clock, type ManagerOptions, type ConversationState, type CloseReason,
  type ObservationsEvent, type InboundMessage, type RejectedEvent, type DeviceAckEvent,
} from './manager';
export { bindSocket } from './socket';
export {
  SimulatedDevice, sampleObservations, DEFAULT_DEVICE_IDENTITY, type SimulatedDeviceOptions, type SimulatedObservations,
  type RawDeviceMessage, type SimulationReport,
} from './simulated-device';
