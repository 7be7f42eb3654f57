/** EOT.R01, end of topic: the device has sent everything on a topic (OBS: all its new observations). */
import { Poct1MessageError } from './errors';
import { messageElement } from './hdr';
import { child, element, valueElement, valueOf, type XmlElement } from './xml';

export interface EndOfTopic {
  /** EOT.topic_cd: OBS, OPL… */
  topic: string;
  updateTime?: string;
}

export function readEot(root: XmlElement): EndOfTopic {
  const topic = valueOf(child(root, 'EOT'), 'EOT.topic_cd');
  if (topic === undefined || topic === '') throw new Poct1MessageError('EOT.R01 has no EOT.topic_cd');
  return { topic, updateTime: valueOf(child(root, 'EOT'), 'EOT.update_dttm') };
}

export function buildEot(controlId: string, creationTime: string, eot: EndOfTopic): XmlElement {
  return messageElement('EOT.R01', controlId, creationTime, [
    element('EOT', {}, [valueElement('EOT.topic_cd', eot.topic, { SN: 'POCT1' }), valueElement('EOT.update_dttm', eot.updateTime)]),
  ]);
}
