/**
 * ACK.R01 answers every message: ACK.type_cd AA (accepted) or AE (error), ACK.ack_control_id
 * the control id of the message it answers, ACK.note_txt an optional note (never patient data).
 */
import { Poct1MessageError } from './errors';
import { messageElement } from './hdr';
import { child, element, valueElement, valueOf, type XmlElement } from './xml';

export type AckType = 'AA' | 'AE';

export interface Acknowledgement {
  type: AckType;
  /** The control id of the message acknowledged. */
  ackControlId: string;
  note?: string;
}

export function readAck(root: XmlElement): Acknowledgement {
  const ack = child(root, 'ACK');
  const type = valueOf(ack, 'ACK.type_cd');
  const ackControlId = valueOf(ack, 'ACK.ack_control_id');
  if (type !== 'AA' && type !== 'AE') throw new Poct1MessageError('ACK.R01 has no ACK.type_cd AA or AE');
  if (ackControlId === undefined || ackControlId === '') throw new Poct1MessageError('ACK.R01 has no ACK.ack_control_id');
  return { type, ackControlId, note: valueOf(ack, 'ACK.note_txt') };
}

export function buildAck(controlId: string, creationTime: string, ack: Acknowledgement): XmlElement {
  return messageElement('ACK.R01', controlId, creationTime, [
    element('ACK', {}, [
      valueElement('ACK.type_cd', ack.type),
      valueElement('ACK.ack_control_id', ack.ackControlId),
      valueElement('ACK.note_txt', ack.note),
    ]),
  ]);
}
