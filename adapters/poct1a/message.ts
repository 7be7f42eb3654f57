/**
 * One POCT1-A message, read from a document's root element by its type, and the writer both
 * sides use to send messages (control ids, creation time, encoding in one place).
 */
import { buildAck, readAck, type Acknowledgement } from './ack';
import { ControlIdSequence } from './control-id';
import { buildDst, readDst, type DeviceStatus } from './dst';
import { buildEnd, readEnd, type Termination } from './end';
import { buildEot, readEot, type EndOfTopic } from './eot';
import { Poct1MessageError } from './errors';
import { readHeader, type Header } from './hdr';
import { buildHel, readHel, type DeviceIdentity } from './hel';
import { buildObs, readObs, type ObservationMessage, type ObservationMessageType, type ServiceInput } from './obs';
import { buildReq, readReq, type RequestCode } from './req';
import { formatTimestamp, DEFAULT_TIME_ZONE } from './time';
import { serialize, type XmlElement, type XmlEncoding } from './xml';

interface Base {
  header: Header;
  root: XmlElement;
}

export type Poct1Message =
  | (Base & { type: 'HEL.R01'; device: DeviceIdentity })
  | (Base & { type: 'DST.R01'; status: DeviceStatus })
  | (Base & { type: 'OBS.R01'; observations: ObservationMessage })
  | (Base & { type: 'OBS.R02'; observations: ObservationMessage })
  | (Base & { type: 'EOT.R01'; eot: EndOfTopic })
  | (Base & { type: 'ACK.R01'; ack: Acknowledgement })
  | (Base & { type: 'REQ.R01'; request: RequestCode })
  | (Base & { type: 'END.R01'; end: Termination })
  /** A message this adapter does not read (OPL, DTV, EVS, a vendor's own…): kept whole in `root`. */
  | (Base & { type: 'other'; name: string });

/** Reads a message. Throws Poct1MessageError (with the control id when the header was readable). */
export function readMessage(root: XmlElement): Poct1Message {
  const header = readHeader(root);
  const base = { header, root };
  try {
    switch (root.name) {
      case 'HEL.R01': return { ...base, type: 'HEL.R01', device: readHel(root) };
      case 'DST.R01': return { ...base, type: 'DST.R01', status: readDst(root) };
      case 'OBS.R01': return { ...base, type: 'OBS.R01', observations: readObs(root) };
      case 'OBS.R02': return { ...base, type: 'OBS.R02', observations: readObs(root) };
      case 'EOT.R01': return { ...base, type: 'EOT.R01', eot: readEot(root) };
      case 'ACK.R01': return { ...base, type: 'ACK.R01', ack: readAck(root) };
      case 'REQ.R01': return { ...base, type: 'REQ.R01', request: readReq(root).request };
      case 'END.R01': return { ...base, type: 'END.R01', end: readEnd(root) };
      default: return { ...base, type: 'other', name: root.name };
    }
  } catch (err) {
    // The header was readable: say which message was at fault, so it can be answered with an AE.
    if (err instanceof Poct1MessageError && err.controlId === undefined) throw new Poct1MessageError(err.message, header.controlId);
    throw err;
  }
}

/** A message ready to go on the wire. */
export interface OutboundMessage {
  type: string;
  controlId: string;
  root: XmlElement;
  bytes: Buffer;
}

export interface WriterOptions {
  /** First control id (default 1). */
  firstControlId?: number;
  /** Time for HDR.creation_dttm (default Date.now). */
  now?: () => number;
  timeZone?: string;
  encoding?: XmlEncoding;
  /** Pretty-print with this indentation (default: one line per document). */
  indent?: string;
}

/** Writes the messages one side sends on one connection: each gets the next control id. */
export class Poct1Writer {
  private readonly ids: ControlIdSequence;

  constructor(private readonly options: WriterOptions = {}) {
    this.ids = new ControlIdSequence(options.firstControlId ?? 1);
  }

  ack(ack: Acknowledgement): OutboundMessage {
    return this.write((id, at) => buildAck(id, at, ack));
  }

  req(request: RequestCode = 'ROBS'): OutboundMessage {
    return this.write((id, at) => buildReq(id, at, request));
  }

  end(end?: Termination): OutboundMessage {
    return this.write((id, at) => buildEnd(id, at, end));
  }

  hel(identity: DeviceIdentity): OutboundMessage {
    return this.write((id, at) => buildHel(id, at, identity));
  }

  dst(status: DeviceStatus): OutboundMessage {
    return this.write((id, at) => buildDst(id, at, status));
  }

  obs(messageType: ObservationMessageType, services: ServiceInput[]): OutboundMessage {
    return this.write((id, at) => buildObs(id, at, messageType, services));
  }

  eot(eot: EndOfTopic): OutboundMessage {
    return this.write((id, at) => buildEot(id, at, eot));
  }

  /** Any other message, built by the caller from its control id and creation time. */
  write(build: (controlId: string, creationTime: string) => XmlElement): OutboundMessage {
    const controlId = this.ids.take();
    const creationTime = formatTimestamp((this.options.now ?? Date.now)(), this.options.timeZone ?? DEFAULT_TIME_ZONE);
    const root = build(controlId, creationTime);
    return { type: root.name, controlId, root, bytes: serialize(root, { encoding: this.options.encoding, indent: this.options.indent }) };
  }
}
