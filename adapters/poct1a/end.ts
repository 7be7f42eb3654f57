/** END.R01 ends the conversation; the device acknowledges it and closes the connection. */
import { messageElement } from './hdr';
import { child, element, valueElement, valueOf, type XmlElement } from './xml';

export interface Termination {
  /** END.reason_cd: NRM for a normal end. */
  reason?: string;
}

export function readEnd(root: XmlElement): Termination {
  return { reason: valueOf(child(root, 'END'), 'END.reason_cd') };
}

export function buildEnd(controlId: string, creationTime: string, end: Termination = { reason: 'NRM' }): XmlElement {
  return messageElement('END.R01', controlId, creationTime, [element('END', {}, [valueElement('END.reason_cd', end.reason)])]);
}
