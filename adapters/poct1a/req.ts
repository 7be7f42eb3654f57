/** REQ.R01, the manager's request: request_cd ROBS asks the device for its new observations. */
import { Poct1MessageError } from './errors';
import { messageElement } from './hdr';
import { child, element, valueElement, valueOf, type XmlElement } from './xml';

/** REQ.request_cd: ROBS (observations) is the one this adapter sends. */
export type RequestCode = 'ROBS' | (string & {});

export function readReq(root: XmlElement): { request: RequestCode } {
  const request = valueOf(child(root, 'REQ'), 'REQ.request_cd');
  if (request === undefined || request === '') throw new Poct1MessageError('REQ.R01 has no REQ.request_cd');
  return { request };
}

export function buildReq(controlId: string, creationTime: string, request: RequestCode = 'ROBS'): XmlElement {
  return messageElement('REQ.R01', controlId, creationTime, [element('REQ', {}, [valueElement('REQ.request_cd', request)])]);
}
