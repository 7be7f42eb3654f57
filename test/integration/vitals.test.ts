/**
 * Vitals end to end through the hub started as the README says: the documented cart example
 * published with mosquitto_pub, the cart simulator (contract, FHIR, BLE gateway) and a PCD-01
 * device gateway on the MLLP input all reach a record (simulators/record.ts) as IHE PCD-01 ORUs
 * that python3-hl7 reads, with the MDC codes, units and EUI-64 the coding table says.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { BusClient } from '../../adapters/bus';
import { encodeMessage, MllpClient } from '../../adapters/hl7';
import { normaliseEui64, eui64FromMac48, quantity, temperatureSite, type CartVitals } from '../../adapters/vitals';
import { runCart } from '../../simulators/cart';
import { SimulatedRecord, type ReceivedMessage } from '../../simulators/record';
import { tempDir } from '../support/net';
import { startHubProcess, waitUntil, type HubProcess } from '../support/hub-process';
import { parseWithPython, pyComponents, type PyMessage } from '../support/python-hl7';

const ROOT = resolve(__dirname, '..', '..', '..');
const EXAMPLE = join(ROOT, 'docs', 'schema', 'vitals.example.json');
const run = promisify(execFile);

interface Row { code: string; subId: string; value: string; unit: string; eui64: string }

/** The numeric OBX rows of a PCD-01 ORU, as python3-hl7 read them. */
function rowsOf(m: PyMessage): Row[] {
  const count = m.segments.filter((s) => s.name === 'OBX').length;
  return Array.from({ length: count }, (_, k) => ({
    type: pyComponents(m, 'OBX', 2, k + 1)?.[0] ?? '',
    code: pyComponents(m, 'OBX', 3, k + 1)?.[0] ?? '',
    subId: pyComponents(m, 'OBX', 4, k + 1)?.[0] ?? '',
    value: pyComponents(m, 'OBX', 5, k + 1)?.[0] ?? '',
    unit: pyComponents(m, 'OBX', 6, k + 1)?.[0] ?? '',
    eui64: pyComponents(m, 'OBX', 18, k + 1)?.[0] ?? '',
  })).filter((r) => r.type === 'NM').map(({ type: _type, ...row }) => row);
}

/** What the table says each measurement of a cart message becomes in PCD-01: MDC code, unit code, EUI-64. */
function expectedRows(v: CartVitals): Array<Omit<Row, 'subId' | 'value'>> {
  return v.measurements.map((m) => {
    const q = quantity(m.quantity!)!;
    const site = q.id === 'body-temperature' && typeof m.bodySite === 'string' ? temperatureSite(m.bodySite)?.mdc : undefined;
    const eui64 = (m.device?.eui64 && normaliseEui64(m.device.eui64)) || (m.device?.bluetoothAddress && eui64FromMac48(m.device.bluetoothAddress)) || '';
    return { code: (site ?? q.mdc).code, unit: q.mdcUnit.code, eui64 };
  });
}

function header(m: PyMessage) {
  return {
    version: pyComponents(m, 'MSH', 12)?.[0],
    profile: pyComponents(m, 'MSH', 21)?.[0],
    obr4: pyComponents(m, 'OBR', 4)?.[0],
    resultId: pyComponents(m, 'OBR', 3)?.[0],
    names: (m.segments.find((s) => s.name === 'PID')?.fields[5] ?? []).map((rep) => rep.slice(0, 3).map((c) => c[0])),
    ins: pyComponents(m, 'PID', 3)?.[0],
  };
}

describe('vitals through the running hub to the record, as IHE PCD-01', function () {
  this.timeout(120_000);
  let data: ReturnType<typeof tempDir>;
  let record: SimulatedRecord;
  let hub: HubProcess;
  const byResult = new Map<string, ReceivedMessage>();

  before(async () => {
    data = tempDir();
    record = await new SimulatedRecord({ onMessage: (m) => { const id = /\rOBR\|1\|\|([^|^\r]*)/.exec(m.text)?.[1]; if (id) byResult.set(id, m); } }).start();
    hub = await startHubProcess(join(data.dir, 'hub'), { EHR_MLLP: `127.0.0.1:${record.port}` });
    await waitUntil(async () => (await fetch(`${hub.url}/passerelle/api/health`)).status === 200, 30_000, () => `flows running:\n${hub.output()}`);
  });

  after(async () => {
    await hub?.stop();
    await record?.stop();
    data?.remove();
  });

  const arrived = (id: string) => waitUntil(() => byResult.has(id), 20_000, () => `the ORU of ${id} at the record`);

  it('delivers docs/schema/vitals.example.json, published with mosquitto_pub, as a PCD-01 ORU python3-hl7 reads', async () => {
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(hub.mqttPort), '-q', '1', '-t', 'passerelle/v1/test-site/cart/chariot-tlc-2/vitals', '-f', EXAMPLE]);
    const example = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as CartVitals;
    await arrived(example.id);
    const m = parseWithPython(byResult.get(example.id)!.bytes);
    expect(header(m)).to.deep.include({ version: '2.6', profile: 'IHE_PCD_001', obr4: '182777000', ins: '284037512345678' });
    expect(header(m).names).to.deep.include(['NOËL', 'Hélène', 'Françoise']);
    const rows = rowsOf(m);
    expect(rows.map(({ code, unit, eui64 }) => ({ code, unit, eui64 }))).to.deep.equal(expectedRows(example));
    expect(rows.map((r) => r.value)).to.deep.equal(['128', '82', '97', '74', '97', '72', '37.8', '16', '71.4', '164', '26.5', '5.83']);
    expect(rows.slice(0, 4).map((r) => r.subId)).to.deep.equal(['1.0.1.1', '1.0.1.2', '1.0.1.3', '1.0.0.1']);
    expect(byResult.get(example.id)!.text).to.contain('NTE|1|L|converted from 1.05 g/L');
  });

  it('delivers the cart simulator\'s teleconsultations, as the contract and as FHIR, with the codes of the table', async () => {
    const contract = await runCart({ mqtt: hub.mqttUrl, site: 'test-site', cart: 'chariot-sim', count: 2, everyMs: 0, fhir: false });
    const fhir = await runCart({ mqtt: hub.mqttUrl, site: 'test-site', cart: 'chariot-sim', count: 1, everyMs: 0, fhir: true });
    for (const [published, id] of [...contract.map((p) => [p, p.message.id] as const), ...fhir.map((p) => [p, `fhir.${p.message.id}`] as const)]) {
      await arrived(id);
      const m = parseWithPython(byResult.get(id)!.bytes);
      expect(header(m)).to.deep.include({ version: '2.6', profile: 'IHE_PCD_001' });
      const rows = rowsOf(m);
      expect(rows.map(({ code, unit, eui64 }) => ({ code, unit, eui64 })), id).to.deep.equal(expectedRows(published.message));
      expect(rows[0].value).to.equal(String(published.message.measurements[0].value));
    }
    expect(parseWithPython(byResult.get(`fhir.${fhir[0].message.id}`)!.bytes).segments.find((s) => s.name === 'PID')!.fields[5]![0][0][0]).to.equal('NOËL');
  });

  it('delivers a BLE gateway\'s raw bytes, decoded, with the EUI-64 made from each device\'s address', async () => {
    const published = await runCart({ mqtt: hub.mqttUrl, site: 'test-site', cart: 'chariot-sim', count: 1, everyMs: 0, fhir: false, bleGateway: 'gw-salle-2' });
    await waitUntil(() => [...byResult.keys()].filter((k) => k.startsWith('ble.')).length === 3, 20_000, () => 'three BLE results at the record');
    const rows = [...byResult.entries()].filter(([k]) => k.startsWith('ble.')).flatMap(([, m]) => rowsOf(parseWithPython(m.bytes)));
    const v = published[0].message;
    const value = (q: string) => String(v.measurements.find((m) => m.quantity === q)!.value);
    expect(rows.map((r) => [r.code, r.value, r.unit, r.eui64]).sort()).to.deep.equal([
      ['150021', value('nibp-systolic'), '266016', '00091FFFFE123456'], ['150022', value('nibp-diastolic'), '266016', '00091FFFFE123456'],
      ['150023', value('nibp-mean'), '266016', '00091FFFFE123456'], ['149546', value('pulse-rate-nibp'), '264864', '00091FFFFE123456'],
      ['150456', value('spo2'), '262688', '001C05FFFEA1B2C3'], ['149530', value('pulse-rate-oximeter'), '264864', '001C05FFFEA1B2C3'],
      ['150364', value('body-temperature'), '268192', 'A4C138FFFE0A7B21'],
    ].sort());
  });

  it('passes a device gateway\'s PCD-01 from the MLLP input on to the record, and refuses bad vitals without stopping', async () => {
    const watcher = await BusClient.connect({ url: hub.mqttUrl, clientId: 'vitals-error-watcher' });
    const errors: Array<Record<string, string>> = [];
    await watcher.subscribeDurable('passerelle/v1/test-site/hub/+/error', async (_t, p) => { errors.push(JSON.parse(p.toString())); });
    const bad = JSON.parse(readFileSync(EXAMPLE, 'utf8'));
    bad.id = 'zone-less';
    bad.measurements[0].time = '2026-11-23T10:08:12';
    const badFile = join(data.dir, 'bad.json');
    writeFileSync(badFile, JSON.stringify(bad));
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(hub.mqttPort), '-q', '1', '-t', 'passerelle/v1/test-site/cart/chariot-tlc-2/vitals', '-f', badFile]);

    const gateway = [
      'MSH|^~\\&|AHD_GW^0123456789ABCDEF^EUI-64|SALLE-3|||20261123100900+0100||ORU^R01^ORU_R01|GW-0001|P|2.6|||||FRA|UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO',
      'PID|1||284037512345678^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO^INS||GÉRARD^Jérôme||19531102|M',
      'OBR|1||GW-0001|182777000^monitoring of patient^SCT|||20261123100812+0100',
      'OBX|1||528388^MDC_DEV_SPEC_PROFILE_PULS_OXIM^MDC|1|||||||X|||||||0011223344556677^^0011223344556677^EUI-64',
      'OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.0.0.1|94|262688^MDC_DIM_PERCENT^MDC|||||F|||20261123100812+0100||||0011223344556677^^0011223344556677^EUI-64',
      'OBX|3|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.0.0.2|88|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||F|||20261123100812+0100||||0011223344556677^^0011223344556677^EUI-64',
      '',
    ].join('\r');
    const client = new MllpClient({ host: '127.0.0.1', port: Number(hub.env.MLLP_IN_PORT) });
    const ack = await client.send(encodeMessage(gateway, 'UNICODE UTF-8').bytes, 'GW-0001', 10_000);
    expect(ack.code).to.equal('AA');
    await client.close();
    await arrived('pcd01.AHD_GW.GW-0001');
    const m = parseWithPython(byResult.get('pcd01.AHD_GW.GW-0001')!.bytes);
    expect(header(m).names[0].slice(0, 2)).to.deep.equal(['GÉRARD', 'Jérôme']);
    expect(rowsOf(m).map((r) => [r.code, r.value, r.unit, r.eui64])).to.deep.equal([['150456', '94', '262688', '0011223344556677'], ['149530', '88', '264864', '0011223344556677']]);

    await waitUntil(() => errors.some((e) => /measurements\/0\/time/.test(e.error)), 10_000, () => 'the error event of the zone-less time');
    expect(byResult.has('zone-less')).to.equal(false);
    await watcher.close();
  });
});
