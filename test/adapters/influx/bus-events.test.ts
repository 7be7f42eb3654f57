/**
 * What the "to InfluxDB" node makes of a delivery event from the bus: for a final delivery to a
 * PACS, whose imaging event the store has journaled (as "to PACS" does when it queues the object),
 * the turnaround of that object — acquired, received by the hub, sent, stored in the PACS.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromDelivery } from '../../../adapters/influx/bus-events';
import type { ImagingEvent } from '../../../adapters/model';
import { openTempStore, type OpenedStore } from '../journal/helpers';

const example = (): ImagingEvent => JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'schema', 'imaging-event.example.json'), 'utf8')) as ImagingEvent;

describe('InfluxDB points from the bus: delivery events', () => {
  let t: OpenedStore;
  beforeEach(() => { t = openTempStore(); });
  afterEach(() => t.cleanup());

  it('an object stored in the PACS gives the turnaround of the object: acquired → the hub → the PACS', () => {
    const event = example();
    event.times = { ...event.times, acquired: '2026-11-24T10:00:00+01:00', received: '2026-11-24T09:02:00Z' };
    const raw = Buffer.from(JSON.stringify(event));
    const { id } = t.store.transaction(() => {
      const inboundId = t.store.journalInbound({ channel: 'mqtt:stored', contentType: 'application/json', raw, status: 'accepted', resultId: event.id });
      return t.store.enqueue({ destination: 'pacs', dedupeKey: event.id, resultId: event.id, inboundId, contentType: 'application/vnd.passerelle.dicom-forward+json', build: () => Buffer.from('{}') });
    });
    t.store.markSent(id, Date.parse('2026-11-24T09:02:01Z'));
    t.store.markAccepted(id, { code: 'AA' }, Date.parse('2026-11-24T09:02:05Z'));
    const delivery = { destination: 'pacs', outboundId: id, resultId: event.id, state: 'accepted', attempts: 1, ackCode: 'AA', at: Date.parse('2026-11-24T09:02:05Z') };
    const { turnaround, points } = fromDelivery(`passerelle/v1/cso-annecy/imaging/${event.source.deviceId}/delivery`, Buffer.from(JSON.stringify(delivery)), t.store);
    expect(turnaround).to.not.equal(undefined);
    expect(turnaround!.intervals).to.deep.equal({ analysed_to_received_s: 120, analysed_to_accepted_s: 125, received_to_sent_s: 1, sent_to_accepted_s: 4, received_to_accepted_s: 5 });
    expect(turnaround).to.include({ kind: 'imaging', device: event.source.deviceId, destination: 'pacs', exam: 'US', missing: 0 });
    expect(points.map((p) => p.measurement).sort()).to.deep.equal(['delivery', 'turnaround']);
  });

  it('a delivery of something the store knows neither as a result nor as an imaging event gives no turnaround, only its delivery point', () => {
    const { id } = t.store.enqueue({ destination: 'pacs', dedupeKey: 'x', resultId: 'x', build: () => Buffer.from('{}') });
    t.store.markSent(id, 1000);
    t.store.markAccepted(id, { code: 'AA' }, 2000);
    const { turnaround, points } = fromDelivery('passerelle/v1/s/imaging/d/delivery', Buffer.from(JSON.stringify({ destination: 'pacs', outboundId: id, resultId: 'x', state: 'accepted', at: 2000 })), t.store);
    expect(turnaround).to.equal(undefined);
    expect(points.map((p) => p.measurement)).to.deep.equal(['delivery']);
  });
});
