/**
 * DST.R01, the device's status. What matters to the manager is DST.new_observations_qty: when
 * it is above zero the manager asks for them (REQ with request_cd ROBS).
 */
import { Poct1MessageError } from './errors';
import { messageElement } from './hdr';
import { child, element, valueElement, valueOf, type XmlElement } from './xml';

export interface DeviceStatus {
  statusTime?: string;
  /** DST.new_observations_qty; 0 when the device leaves it out. */
  newObservations: number;
  newEvents?: number;
  /** DST.condition_cd: R ready, … */
  condition?: string;
}

export function readDst(root: XmlElement): DeviceStatus {
  const dst = child(root, 'DST');
  if (!dst) throw new Poct1MessageError('DST.R01 has no DST');
  const newObservations = count(valueOf(dst, 'DST.new_observations_qty'), 'DST.new_observations_qty') ?? 0;
  return {
    statusTime: valueOf(dst, 'DST.status_dttm'),
    newObservations,
    newEvents: count(valueOf(dst, 'DST.new_events_qty'), 'DST.new_events_qty'),
    condition: valueOf(dst, 'DST.condition_cd'),
  };
}

export function buildDst(controlId: string, creationTime: string, status: DeviceStatus): XmlElement {
  return messageElement('DST.R01', controlId, creationTime, [
    element('DST', {}, [
      valueElement('DST.status_dttm', status.statusTime),
      valueElement('DST.new_observations_qty', status.newObservations),
      valueElement('DST.new_events_qty', status.newEvents),
      valueElement('DST.condition_cd', status.condition),
    ]),
  ]);
}

function count(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (!/^\s*\d{1,9}\s*$/.test(value)) throw new Poct1MessageError(`${name} is not a count`);
  return Number(value);
}
