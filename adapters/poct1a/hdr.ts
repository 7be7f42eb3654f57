/**
 * HDR, the header every POCT1-A message starts with: HDR.message_type, HDR.control_id (what the
 * ACK repeats), HDR.version_id (POCT1), HDR.creation_dttm. The creation time is the device's
 * clock when it wrote the message: informative only (device clocks have been seen years off).
 */
import { Poct1MessageError } from './errors';
import { child, element, valueElement, valueOf, type XmlElement } from './xml';

export const POCT1_VERSION = 'POCT1';

export interface Header {
  /** The root element's name: what the message is. */
  messageType: string;
  /** HDR.message_type as sent (optional in practice; the root element is what counts). */
  declaredMessageType?: string;
  controlId: string;
  versionId?: string;
  /** As written by the sender (ISO 8601). */
  creationTime?: string;
}

/** Reads HDR; throws Poct1MessageError when it or its control id is missing. */
export function readHeader(root: XmlElement): Header {
  const hdr = child(root, 'HDR');
  if (!hdr) throw new Poct1MessageError(`<${root.name}> has no HDR`);
  const controlId = valueOf(hdr, 'HDR.control_id');
  if (controlId === undefined || controlId.trim() === '') throw new Poct1MessageError(`<${root.name}> has no HDR.control_id`);
  return {
    messageType: root.name,
    declaredMessageType: valueOf(hdr, 'HDR.message_type'),
    controlId,
    versionId: valueOf(hdr, 'HDR.version_id'),
    creationTime: valueOf(hdr, 'HDR.creation_dttm'),
  };
}

/** The control id of a message if its header can be read, else undefined (used to answer broken messages). */
export function controlIdOf(root: XmlElement | undefined): string | undefined {
  const id = valueOf(child(root, 'HDR'), 'HDR.control_id');
  return id !== undefined && id.trim() !== '' ? id : undefined;
}

export function headerElement(messageType: string, controlId: string, creationTime: string): XmlElement {
  return element('HDR', {}, [
    valueElement('HDR.message_type', messageType, { SN: POCT1_VERSION }),
    valueElement('HDR.control_id', controlId),
    valueElement('HDR.version_id', POCT1_VERSION),
    valueElement('HDR.creation_dttm', creationTime),
  ]);
}

/** A whole message: root named after its type, HDR first, then the body. */
export function messageElement(messageType: string, controlId: string, creationTime: string, body: Array<XmlElement | undefined>): XmlElement {
  return element(messageType, {}, [headerElement(messageType, controlId, creationTime), ...body]);
}
