/**
 * The whole POCT1-A conversation over real loopback TCP: our simulated HbA1c analyser against a
 * small data manager built from Poct1Manager + bindSocket.
 */
import { expect } from 'chai';
import * as net from 'node:net';
import { validateResult } from '../../../adapters/model';
import {
  bindSocket, Poct1Manager, SimulatedDevice, type CloseReason, type DeviceAckEvent, type ManagerOptions, type ObservationsEvent,
  type OutboundMessage, type RejectedEvent, type SimulatedObservations,
} from '../../../adapters/poct1a';
import { hdr } from './samples';
import { once } from '../../support/net';

const HOST = '127.0.0.1';

interface Connection {
  sent: OutboundMessage[];
  observations: ObservationsEvent[];
  rejected: RejectedEvent[];
  deviceAcks: DeviceAckEvent[];
  closed: Promise<CloseReason>;
}

/** A data manager: one Poct1Manager per connection. */
async function managerHarness(options: ManagerOptions): Promise<{ port: number; connections: Connection[]; close: () => Promise<void> }> {
  const connections: Connection[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const manager = new Poct1Manager(options);
    const connection: Connection = { sent: [], observations: [], rejected: [], deviceAcks: [], closed: once<CloseReason>(manager, 'close') };
    manager.on('send', (m: OutboundMessage) => connection.sent.push(m));
    manager.on('observations', (e: ObservationsEvent) => connection.observations.push(e));
    manager.on('rejected', (e: RejectedEvent) => connection.rejected.push(e));
    manager.on('deviceAck', (e: DeviceAckEvent) => connection.deviceAcks.push(e));
    bindSocket(socket, manager);
    connections.push(connection);
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

// The analyser's clock is years off: only SVC.observation_dttm may be trusted.
const DEVICE_CLOCK = Date.UTC(2019, 2, 2, 7, 12, 0);
const MAPPING = { site: 'cso-annecy', deviceClass: 'poc-analyser', deviceId: 'afinion-salle-2' };

/** Two patients (HbA1c 6.1 % and 7.4 %, LOINC 4548-4) and a liquid QC, as an HbA1c analyser sends them. */
function observations(): SimulatedObservations[] {
  const cartridge = { name: 'HbA1c Test Cartridge', lotNumber: '10293847', expirationDate: '2027-06-30' };
  const hba1c = (value: string, flag: string) => ({
    id: { value: '4548-4', system: 'LN', display: 'HbA1c' }, value: { value, units: '%' }, method: 'M', interpretation: flag, normalRange: { value: '[4.0;6.0]', units: '%' },
  });
  return [
    { messageType: 'OBS.R01', services: [{ role: 'OBS', observationTime: '2026-11-23T09:41:07+01:00', patient: { id: 'IPP-77310452', gender: 'F' }, observations: [hba1c('6.1', 'H')], operatorId: 'IDE-0412', reagents: [cartridge] }] },
    { messageType: 'OBS.R01', services: [{ role: 'OBS', observationTime: '2026-11-23T09:52:40+01:00', patient: { id: 'IPP-80214467' }, observations: [hba1c('7.4', 'H')], operatorId: 'IDE-0412', reagents: [cartridge] }] },
    {
      messageType: 'OBS.R02',
      services: [{ role: 'LQC', observationTime: '2026-11-23T08:02:30+01:00', control: { name: 'HbA1c Control C I', lotNumber: 'C1-5521', level: '1' }, observations: [{ id: { value: '4548-4', system: 'LN' }, value: { value: '5.3', units: '%' } }], reagents: [cartridge] }],
    },
  ];
}

describe('poct1a conversation over loopback TCP (simulated device ↔ manager)', function () {
  this.timeout(30_000);

  for (const variant of [
    { title: 'UTF-8, one line per message, written 7 bytes at a time', encoding: 'UTF-8' as const, indent: undefined, writeChunkBytes: 7 },
    { title: 'ISO-8859-1, indented, whole messages', encoding: 'ISO-8859-1' as const, indent: '  ', writeChunkBytes: undefined },
  ]) {
    it(`HEL/DST/REQ/OBS×3 (one QC)/EOT/END, every ACK matching — ${variant.title}`, async () => {
      const manager = await managerHarness({ mapping: MAPPING, idleTimeoutMs: 10_000 });
      try {
        const device = new SimulatedDevice({ port: manager.port, observations: observations(), now: () => DEVICE_CLOCK, encoding: variant.encoding, indent: variant.indent, writeChunkBytes: variant.writeChunkBytes });
        const report = await device.run();
        const [c] = manager.connections;
        expect(await c.closed).to.equal('end-acknowledged');

        // The device's side: each message got an AA whose ack_control_id is its control id.
        expect(report.exchanges.map((e) => e.type)).to.deep.equal(['HEL.R01', 'DST.R01', 'OBS.R01', 'OBS.R01', 'OBS.R02', 'EOT.R01']);
        for (const e of report.exchanges) expect(e.ack).to.deep.equal({ type: 'AA', ackControlId: e.controlId, note: undefined });
        // 1003 is the device's ACK of the REQ: one sequence for everything the device sends.
        expect(report.exchanges.map((e) => e.controlId)).to.deep.equal(['1001', '1002', '1004', '1005', '1006', '1007']);
        expect(report.ended).to.equal(true);
        expect(report.received.map((m) => m.type)).to.deep.equal(['ACK.R01', 'ACK.R01', 'REQ.R01', 'ACK.R01', 'ACK.R01', 'ACK.R01', 'ACK.R01', 'END.R01']);

        // The manager's side: its control ids are unique, the device acknowledged REQ and END.
        const ids = c.sent.map((m) => m.controlId);
        expect(new Set(ids).size).to.equal(ids.length);
        expect(c.deviceAcks.map((a) => [a.acknowledges, a.ack.type])).to.deep.equal([['REQ.R01', 'AA'], ['END.R01', 'AA']]);
        expect(c.rejected).to.deep.equal([]);

        // Patient results map to valid canonical results; the QC is flagged as QC and has no patient.
        expect(c.observations.map((e) => [e.messageType, e.category])).to.deep.equal([['OBS.R01', 'patient'], ['OBS.R01', 'patient'], ['OBS.R02', 'qc']]);
        const results = c.observations.flatMap((e) => e.results!);
        const [first, second] = results.map((r) => validateResult(r.result));
        expect(first.patient).to.deep.equal({ identifiers: [{ value: 'IPP-77310452', type: 'PI' }], sex: 'F', matched: true, matchedBy: 'device' });
        expect(first.observations[0]).to.deep.include({ code: { code: '4548-4', system: 'LN', display: 'HbA1c' }, valueType: 'NM', value: 6.1, unit: { code: '%', system: 'UCUM' }, flags: ['H'], observedAt: '2026-11-23T09:41:07+01:00' });
        expect(first.times.analysed).to.equal('2026-11-23T09:41:07+01:00');
        expect(second.times.analysed).to.equal('2026-11-23T09:52:40+01:00');
        expect(second.observations[0].value).to.equal(7.4);
        expect(first.source).to.deep.include({ deviceId: 'afinion-salle-2', model: 'Simulated HbA1c analyser', serial: '0001', protocol: 'poct1a' });
        for (const r of [first, second]) expect(JSON.stringify(r)).not.to.contain('2019-03-02');
        expect(results[2].category).to.equal('qc');
        expect(results[2].role).to.equal('LQC');
        expect(results[2].result.patient).to.equal(undefined);
        validateResult(results[2].result);
      } finally {
        await manager.close();
      }
    });
  }

  it('a malformed OBS (not well-formed, or missing its observation id) gets AE with a note, and the conversation goes on', async () => {
    const manager = await managerHarness({ mapping: MAPPING });
    try {
      const [patient, , qc] = observations();
      const broken = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><OBS.R01>${hdr('OBS.R01', '77')}<SVC><SVC.role_cd V="OBS"/><SVC.observation_dttm V="2026-11-23T09:45:00+01:00"/><PT><PT.patient_id V="IPP-1"/><OBS><OBS.observation_id V="4548-4" SN="LN"/><OBS.value V="6.1" U="%"></OBS></PT></SVC></OBS.R01>`);
      const noId = Buffer.from(`<OBS.R01>${hdr('OBS.R01', '78')}<SVC><SVC.role_cd V="OBS"/><SVC.observation_dttm V="2026-11-23T09:46:00+01:00"/><PT><PT.patient_id V="IPP-2"/><OBS><OBS.value V="6.4" U="%"/></OBS></PT></SVC></OBS.R01>`);
      const device = new SimulatedDevice({ port: manager.port, observations: [patient, { raw: broken, controlId: '77' }, { raw: noId, controlId: '78' }, qc], writeChunkBytes: 50 });
      const report = await device.run();
      expect(report.exchanges.map((e) => [e.type, e.controlId, e.ack.type, e.ack.note])).to.deep.equal([
        ['HEL.R01', '1001', 'AA', undefined], ['DST.R01', '1002', 'AA', undefined], ['OBS.R01', '1004', 'AA', undefined],
        ['raw', '77', 'AE', 'message is not well-formed XML'],
        ['raw', '78', 'AE', 'SVC 1 OBS 1: OBS.observation_id is missing'],
        ['OBS.R02', '1005', 'AA', undefined], ['EOT.R01', '1006', 'AA', undefined],
      ]);
      expect(report.ended).to.equal(true);
      const [c] = manager.connections;
      expect(await c.closed).to.equal('end-acknowledged');
      expect(c.observations.map((e) => e.category)).to.deep.equal(['patient', 'qc']);
      expect(c.rejected.map((r) => [r.controlId, r.raw.equals(r.controlId === '77' ? broken : noId)])).to.deep.equal([['77', true], ['78', true]]);
    } finally {
      await manager.close();
    }
  });

  it('a connection that stays silent is closed by the manager (idle timeout)', async () => {
    const manager = await managerHarness({ idleTimeoutMs: 150 });
    try {
      const socket = net.connect(manager.port, HOST);
      await once(socket, 'connect');
      const started = Date.now();
      await once(socket, 'end');
      socket.destroy();
      expect(Date.now() - started).to.be.within(100, 5_000);
      expect(await manager.connections[0].closed).to.equal('idle');
    } finally {
      await manager.close();
    }
  });
});
