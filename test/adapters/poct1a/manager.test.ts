/** The manager's conversation state machine, without sockets, on a fake clock. */
import { expect } from 'chai';
import { validateResult } from '../../../adapters/model';
import {
  parseXml, Poct1Manager, Poct1Splitter, Poct1Writer, readMessage, type Poct1Document, type Clock, type CloseReason, type DeviceAckEvent, type InboundMessage, type ManagerOptions,
  type ObservationsEvent, type OutboundMessage, type Poct1DocumentError, type Poct1Message, type RejectedEvent,
} from '../../../adapters/poct1a';
import { DST, EOT, hdr, HEL, OBS_PATIENT, OBS_QC, obsPatient } from './samples';

export class FakeClock implements Clock {
  time = Date.UTC(2026, 10, 23, 8, 41, 10);
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  private id = 0;

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    this.id += 1;
    this.timers.set(this.id, { at: this.time + ms, fn });
    return this.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  tick(ms: number): void {
    this.time += ms;
    for (const [id, timer] of [...this.timers]) {
      if (timer.at <= this.time && this.timers.delete(id)) timer.fn();
    }
  }

  get pending(): number {
    return this.timers.size;
  }
}

type Ack = Extract<Poct1Message, { type: 'ACK.R01' }>;

/** A manager with every event recorded. */
function harness(options: ManagerOptions = {}) {
  const clock = new FakeClock();
  const manager = new Poct1Manager({ clock, ...options });
  const sent: Poct1Message[] = [];
  const events = {
    observations: [] as ObservationsEvent[], rejected: [] as RejectedEvent[], documentErrors: [] as Poct1DocumentError[],
    deviceAcks: [] as DeviceAckEvent[], closed: [] as CloseReason[], other: [] as Poct1Message[], hello: 0, status: 0, endOfTopic: 0,
  };
  manager.on('send', (m: OutboundMessage) => sent.push(readMessage(parseXml(m.bytes.toString('utf8')))));
  manager.on('observations', (e: ObservationsEvent) => events.observations.push(e));
  manager.on('rejected', (e: RejectedEvent) => events.rejected.push(e));
  manager.on('documentError', (e: Poct1DocumentError) => events.documentErrors.push(e));
  manager.on('deviceAck', (e: DeviceAckEvent) => events.deviceAcks.push(e));
  manager.on('close', (r: CloseReason) => events.closed.push(r));
  manager.on('message', (m: Poct1Message) => events.other.push(m));
  manager.on('hello', () => (events.hello += 1));
  manager.on('status', () => (events.status += 1));
  manager.on('endOfTopic', () => (events.endOfTopic += 1));
  const acks = () => sent.filter((m): m is Ack => m.type === 'ACK.R01').map((m) => [m.ack.ackControlId, m.ack.type, m.ack.note]);
  return { clock, manager, sent, events, acks, feed: (...docs: Array<string | Buffer>) => manager.receive(Buffer.concat(docs.map((d) => (typeof d === 'string' ? Buffer.from(d) : d)))) };
}

/** The device's ACK of a manager message. */
const deviceAck = (controlId: string, type: 'AA' | 'AE' = 'AA') => new Poct1Writer({ firstControlId: 9000 }).ack({ type, ackControlId: controlId }).bytes;

describe('poct1a manager conversation', () => {
  it('HEL → ACK; DST → ACK + REQ ROBS; each OBS → ACK + event (patient vs QC); EOT → ACK + END; ACK of END → close', () => {
    const h = harness({ mapping: { site: 'cso-annecy', deviceClass: 'poc-analyser', deviceId: 'afinion-salle-2' } });
    expect(h.manager.state).to.equal('awaiting-hello');
    h.feed(HEL);
    expect(h.manager.state).to.equal('ready');
    h.feed(DST);
    expect(h.manager.state).to.equal('requested');
    const req = h.sent[2] as Extract<Poct1Message, { type: 'REQ.R01' }>;
    expect(req.type).to.equal('REQ.R01');
    expect(req.request).to.equal('ROBS');
    h.feed(deviceAck(req.header.controlId), OBS_PATIENT, OBS_QC, EOT);
    expect(h.manager.state).to.equal('ending');
    expect(h.sent.map((m) => m.type)).to.deep.equal(['ACK.R01', 'ACK.R01', 'REQ.R01', 'ACK.R01', 'ACK.R01', 'ACK.R01', 'END.R01']);
    expect(h.acks()).to.deep.equal([['20417', 'AA', undefined], ['20418', 'AA', undefined], ['20419', 'AA', undefined], ['20421', 'AA', undefined], ['20422', 'AA', undefined]]);
    const ids = h.sent.map((m) => m.header.controlId);
    expect(new Set(ids).size).to.equal(ids.length);
    expect(h.events).to.deep.include({ hello: 1, status: 1, endOfTopic: 1 });
    expect(h.events.observations.map((e) => [e.messageType, e.controlId, e.category])).to.deep.equal([['OBS.R01', '20419', 'patient'], ['OBS.R02', '20421', 'qc']]);
    const [patient, qc] = h.events.observations;
    expect(patient.device?.serialId).to.equal('AF2-004711');
    expect(patient.results!.map((r) => r.category)).to.deep.equal(['patient']);
    const result = validateResult(patient.results![0].result);
    expect(result.times).to.deep.equal({ analysed: '2026-11-23T09:41:07+01:00', received: '2026-11-23T08:41:10.000Z' });
    expect(result.raw!.sha256).to.match(/^[0-9a-f]{64}$/);
    expect(result.source.serial).to.equal('AF2-004711');
    expect(qc.results![0].result.patient).to.equal(undefined);
    expect(h.events.deviceAcks).to.deep.equal([{ ack: { type: 'AA', ackControlId: req.header.controlId, note: undefined }, acknowledges: 'REQ.R01' }]);
    h.feed(deviceAck(h.sent[6].header.controlId));
    expect(h.events.closed).to.deep.equal(['end-acknowledged']);
    expect(h.manager.state).to.equal('closed');
    expect(h.clock.pending).to.equal(0);
  });

  it('no REQ when the device has no new observations; stays connected after EOT when configured', () => {
    const h = harness({ afterEndOfTopic: 'stay' });
    h.feed(HEL, DST.replace('<DST.new_observations_qty V="3"/>', '<DST.new_observations_qty V="0"/>'), EOT);
    expect(h.sent.map((m) => m.type)).to.deep.equal(['ACK.R01', 'ACK.R01', 'ACK.R01']);
    expect(h.manager.state).to.equal('ready');
    expect(h.events.closed).to.deep.equal([]);
  });

  it('a malformed OBS gets AE with a note, the conversation goes on', () => {
    const h = harness();
    const noId = OBS_PATIENT.replace('<HDR.control_id V="20419"/>', '<HDR.control_id V="31"/>').replace('<OBS.observation_id V="4548-4" SN="LN" DN="HbA1c"/>', '');
    const broken = obsPatient('32').replace('</OBS>', '</OBX>');
    h.feed(HEL, DST, noId, broken, obsPatient('33'), EOT);
    expect(h.acks()).to.deep.equal([
      ['20417', 'AA', undefined], ['20418', 'AA', undefined],
      ['31', 'AE', 'SVC 1 OBS 1: OBS.observation_id is missing'],
      ['32', 'AE', 'message is not well-formed XML'],
      ['33', 'AA', undefined], ['20422', 'AA', undefined],
    ]);
    expect(h.events.observations.map((e) => e.controlId)).to.deep.equal(['33']);
    expect(h.events.rejected.map((e) => [e.controlId, e.messageType, e.reason])).to.deep.equal([
      ['31', 'OBS.R01', 'SVC 1 OBS 1: OBS.observation_id is missing'],
      ['32', 'OBS.R01', 'message is not well-formed XML'],
    ]);
    expect(h.events.documentErrors).to.have.length(1);
    expect(h.events.documentErrors[0].raw.toString()).to.equal(broken);
    expect(h.sent[h.sent.length - 1].type).to.equal('END.R01');
    // Nothing said about the patient.
    for (const e of h.events.rejected) expect(e.reason).not.to.contain('IPP');
  });

  it('observations that do not map to a valid result get AE; a message with no header cannot be answered but is reported', () => {
    const h = harness({ mapping: { site: 'not a site!', deviceClass: 'poc-analyser', deviceId: 'afinion' } });
    h.feed(obsPatient('40'), '<OBS.R01><SVC/></OBS.R01>');
    expect(h.acks()).to.have.length(1);
    expect(h.acks()[0].slice(0, 2)).to.deep.equal(['40', 'AE']);
    expect(h.acks()[0][2]).to.match(/^observations do not make a valid result: \/source\/site/);
    expect(h.events.rejected.map((e) => [e.controlId, e.reason])).to.deep.include([undefined, '<OBS.R01> has no HDR']);
  });

  it('a broken ACK from the device is never answered; a late or unknown ACK is reported, not credited', () => {
    const h = harness();
    h.feed(`<ACK.R01>${hdr('ACK.R01', '7')}<ACK><ACK.type_cd V="AA"/></ACK.R01>`, deviceAck('123'));
    expect(h.sent).to.deep.equal([]);
    expect(h.events.documentErrors).to.have.length(1);
    expect(h.events.deviceAcks).to.deep.equal([{ ack: { type: 'AA', ackControlId: '123', note: undefined }, acknowledges: undefined }]);
  });

  it('a message type it does not handle is acknowledged and passed on; END from the device is acknowledged, then closes', () => {
    const h = harness();
    h.feed(HEL, `<EVS.R01>${hdr('EVS.R01', '50')}<EVT><EVT.description V="Maintenance"/></EVT></EVS.R01>`, `<END.R01>${hdr('END.R01', '51')}<END><END.reason_cd V="NRM"/></END></END.R01>`);
    expect(h.acks().map((a) => a[0])).to.deep.equal(['20417', '50', '51']);
    expect(h.events.other.map((m) => m.header.controlId)).to.deep.equal(['50']);
    expect(h.events.closed).to.deep.equal(['device-end']);
  });

  it('idle timeout on a fake clock: a silent connection is closed, bytes keep it open, nothing is sent after', () => {
    const h = harness({ idleTimeoutMs: 30_000 });
    h.clock.tick(29_999);
    expect(h.events.closed).to.deep.equal([]);
    h.feed(HEL.slice(0, 100)); // half a message is still activity
    h.clock.tick(29_999);
    expect(h.events.closed).to.deep.equal([]);
    h.feed(HEL.slice(100));
    expect(h.acks()).to.have.length(1);
    h.clock.tick(30_000);
    expect(h.events.closed).to.deep.equal(['idle']);
    expect(h.manager.state).to.equal('closed');
    h.feed(DST);
    expect(h.sent).to.have.length(1);
    expect(h.clock.pending).to.equal(0);
  });

  it('the device going away mid-message: the half document is reported, nothing is sent, close once', () => {
    const h = harness();
    h.feed(HEL, OBS_PATIENT.slice(0, 500));
    h.manager.peerClosed();
    h.manager.peerClosed();
    expect(h.events.documentErrors.map((e) => e.reason)).to.deep.equal(['truncated']);
    expect(h.acks()).to.have.length(1);
    expect(h.events.closed).to.deep.equal(['peer-closed']);
  });

  it('accept: the ACK waits for it (journal first), in order; a failure is an AE and the device keeps its result', async () => {
    const stored: string[] = [];
    let fail = false;
    const h = harness({
      accept: async (inbound: InboundMessage) => {
        await new Promise((resolve) => setImmediate(resolve));
        if (fail && inbound.message.type === 'OBS.R01') throw new Error('disk full');
        stored.push(inbound.message.header.controlId);
      },
    });
    h.feed(HEL, DST, obsPatient('60'));
    expect(h.sent).to.have.length(0); // nothing acknowledged before it is stored
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stored).to.deep.equal(['20417', '20418', '60']);
    expect(h.sent.map((m) => m.type)).to.deep.equal(['ACK.R01', 'ACK.R01', 'REQ.R01', 'ACK.R01']);
    fail = true;
    h.feed(obsPatient('61'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.acks()[3]).to.deep.equal(['61', 'AE', 'the data manager could not store the message']);
    expect(h.events.rejected[0].error?.message).to.equal('disk full');
    expect(h.events.observations.map((e) => e.controlId)).to.deep.equal(['60']);
  });

  it('documents split elsewhere can be given whole; the device identity is kept from HEL', () => {
    const h = harness();
    for (const item of new Poct1Splitter().push(Buffer.from(HEL + DST))) h.manager.receiveDocument(item as Poct1Document);
    expect(h.acks().map((a) => a[0])).to.deep.equal(['20417', '20418']);
    expect(h.manager.device?.modelId).to.equal('Afinion 2');
  });

  it('a synchronous accept that throws is an AE too', () => {
    const h = harness({ accept: () => { throw new Error('no journal'); } });
    h.feed(HEL);
    expect(h.acks()).to.deep.equal([['20417', 'AE', 'the data manager could not store the message']]);
    expect(h.events.hello).to.equal(0);
  });

  it('a mixed OBS.R01 (patient and QC services) says so, and each result carries its own category', () => {
    const h = harness({ mapping: { site: 's', deviceClass: 'poc-analyser', deviceId: 'd' } });
    const mixed = OBS_PATIENT.replace('</OBS.R01>', OBS_QC.slice(OBS_QC.indexOf('<SVC>'), OBS_QC.indexOf('</OBS.R02>')) + '</OBS.R01>');
    h.feed(mixed);
    expect(h.events.observations[0].category).to.equal('mixed');
    expect(h.events.observations[0].results!.map((r) => r.category)).to.deep.equal(['patient', 'qc']);
  });
});
