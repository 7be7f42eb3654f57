export { ACK, CR, ENQ, EOT, ETB, ETX, LF, NAK, STX, byteName } from './control';
export { checksumText, checksumValue, parseChecksum } from './checksum';
export { buildFrames, encodeFrame, DEFAULT_MAX_FRAME_TEXT, type OutgoingFrame } from './frame';
export { type Clock, systemClock } from './clock';
export { DEFAULT_LINK_SETTINGS, resolveLinkSettings, type LinkSettings, type LinkSide } from './settings';
export {
  AstmLink, type LinkOptions, type LinkEvents, type LinkState, type ReceivedMessage, type IncompleteMessage, type IncompleteReason,
  type FrameEvent, type FrameRejection, type SendFailureReason, type TransferSegment,
} from './link';
export { attachLink, type ByteSource, type ByteSink } from './transport';
