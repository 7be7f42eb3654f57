/**
 * Patient matching end to end: the hub as a child process, a simulated record, results that
 * carry only a specimen id, orders from the record over MLLP, and a person assigning a patient
 * through the hub API.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { BusClient } from '../../adapters/bus';
import { encodeMessage, Hl7Message, MllpClient } from '../../adapters/hl7';
import type { Result } from '../../adapters/model';
import { SimulatedRecord } from '../../simulators/record';
import { tempDir } from '../support/net';
import { startHubProcess, waitUntil, type HubProcess } from '../support/hub-process';

const TOPIC = 'passerelle/v1/test-site/biology/analyser-1/result';

/** A result as an analyser sends it: a specimen id and no patient. */
function heldResult(id: string, specimenId: string): Result {
  return {
    schema: 'passerelle.result/1',
    id,
    kind: 'biology',
    status: 'final',
    source: { site: 'test-site', deviceClass: 'chemistry', deviceId: 'analyser-1' },
    specimen: { id: specimenId },
    observations: [{ code: { code: '2345-7', system: 'LN', display: 'Glucose' }, deviceCode: { code: 'GLU' }, valueType: 'NM', value: 5.4, unit: { code: 'mmol/L' }, status: 'F' }],
    times: { received: '2026-11-23T09:41:07+01:00' },
  };
}

/** An OML^O21 from the record for one specimen, its patient with an INS. */
function omlFor(specimenId: string, controlId: string): string {
  return [
    `MSH|^~\\&|DPI|HOSP|PASSERELLE|LAB|20261123080000+0100||OML^O21^OML_O21|${controlId}|P|2.5|||||FRA|UNICODE UTF-8`,
    'PID|1||284037512345678^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO^INS~IPP77^^^HOSP^PI||LEFÈVRE^Hélène^^^^^L~NOËL^Hélène^^^^^D||19840312|F',
    'ORC|NW|CMD-77^DPI|||||||20261123075500+0100',
    'OBR|1|CMD-77^DPI||GLU^Glucose^L',
    `SPM|1|${specimenId}||BLD`,
    '',
  ].join('\r');
}

interface UnmatchedPage { results: Array<{ id: string; specimenId?: string; matched: boolean }>; next?: string }

describe('patient matching in the hub: orders, late orders, assignment', function () {
  this.timeout(120_000);
  let data: ReturnType<typeof tempDir>;
  let record: SimulatedRecord;
  let hub: HubProcess;
  let bus: BusClient;
  let mllp: MllpClient;

  const unmatched = async (): Promise<UnmatchedPage> => (await fetch(`${hub.url}/passerelle/api/unmatched?limit=50`)).json() as Promise<UnmatchedPage>;
  const publish = (result: Result) => bus.publish(TOPIC, JSON.stringify(result), { qos: 1 });
  const lastOru = (n: number) => Hl7Message.parse(record.received[n - 1].text);
  const assign = (id: string, body: unknown) => fetch(`${hub.url}/passerelle/api/results/${encodeURIComponent(id)}/assign`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

  before(async () => {
    data = tempDir();
    record = await new SimulatedRecord().start();
    hub = await startHubProcess(join(data.dir, 'hub'), { EHR_MLLP: `127.0.0.1:${record.port}` });
    await waitUntil(async () => (await fetch(`${hub.url}/passerelle/api/health`)).status === 200, 30_000, () => `flows running:\n${hub.output()}`);
    bus = await BusClient.connect({ url: hub.mqttUrl, clientId: 'matching-test' });
    mllp = new MllpClient({ host: '127.0.0.1', port: Number(hub.env.MLLP_IN_PORT) });
  });

  after(async () => {
    await mllp?.close();
    await bus?.close();
    await hub?.stop();
    await record?.stop();
    data?.remove();
  });

  it('holds a result without a patient and lists it as unmatched; nothing reaches the record', async () => {
    await publish(heldResult('r-late-order', 'S1'));
    await waitUntil(async () => (await unmatched()).results.some((r) => r.id === 'r-late-order'), 20_000, () => `r-late-order listed:\n${hub.output()}`);
    const page = await unmatched();
    expect(page.results).to.have.length(1);
    expect(page.results[0]).to.include({ id: 'r-late-order', specimenId: 'S1', matched: false });
    expect(record.received).to.have.length(0);
  });

  it('sends it, with the order\'s patient, once the order for its specimen arrives over MLLP', async () => {
    const ack = await mllp.send(encodeMessage(omlFor('S1', 'OML-1'), 'UNICODE UTF-8').bytes, 'OML-1', 10_000);
    expect(ack.code).to.equal('AA');
    await record.waitFor(1);
    const oru = lastOru(1);
    expect(oru.messageType).to.equal('ORU^R01^ORU_R01');
    expect(oru.get('PID-3[1].1')).to.equal('284037512345678');
    expect(oru.get('PID-3[1].4.2')).to.equal('1.2.250.1.213.1.4.8');
    expect(oru.get('PID-3[1].5')).to.equal('INS');
    expect(oru.get('PID-3[2].1')).to.equal('IPP77');
    expect(oru.get('PID-5[1].1')).to.equal('LEFÈVRE');
    expect(oru.get('PID-5[2].1')).to.equal('NOËL');
    expect(oru.get('PID-7')).to.equal('19840312');
    expect(oru.get('OBR-2.1')).to.equal('CMD-77');
    expect(oru.get('SPM-2.1')).to.equal('S1');
    expect(oru.get('OBX-5')).to.equal('5.4');
    await waitUntil(async () => (await unmatched()).results.length === 0, 10_000, () => 'the unmatched list emptied');
    const { results } = await (await fetch(`${hub.url}/passerelle/api/results?limit=10`)).json() as { results: Array<{ id: string; result: Result }> };
    const stored = results.find((r) => r.id === 'r-late-order')!;
    expect(stored.result.patient).to.deep.include({ matched: true, matchedBy: 'order' });
  });

  it('assigns a patient to a held result through the API, which then reaches the record', async () => {
    await publish(heldResult('r-manual', 'S-NO-ORDER'));
    await waitUntil(async () => (await unmatched()).results.some((r) => r.id === 'r-manual'), 20_000, () => 'r-manual listed');

    const noIdentifier = await assign('r-manual', { patient: { identifiers: [], name: { family: 'MARTIN' } } });
    expect(noIdentifier.status).to.equal(400);
    expect((await noIdentifier.json()).error).to.match(/at least one identifier/);
    expect((await assign('r-manual', '{not json')).status).to.equal(400);
    expect((await assign('r-manual', { patient: { identifiers: [{ value: 'X' }], colour: 'blue' } })).status).to.equal(400);
    const unknown = await assign('r-nobody', { patient: { identifiers: [{ value: 'IPP1' }] } });
    expect(unknown.status).to.equal(404);
    expect(record.received).to.have.length(1);

    const ok = await assign('r-manual', { patient: { identifiers: [{ value: 'IPP-ASSIGNED-9', authority: 'HOSP', type: 'PI' }], name: { family: 'MARTIN', given: ['Paul'] }, birthDate: '1950-02-03', sex: 'M' } });
    expect(ok.status).to.equal(202);
    expect((await ok.json()).patient).to.deep.include({ matched: true, matchedBy: 'manual' });
    await record.waitFor(2);
    const oru = lastOru(2);
    expect(oru.get('PID-3[1].1')).to.equal('IPP-ASSIGNED-9');
    expect(oru.get('PID-3[1].4')).to.equal('HOSP');
    expect(oru.get('PID-5.1')).to.equal('MARTIN');
    expect(oru.get('SPM-2.1')).to.equal('S-NO-ORDER');

    const again = await assign('r-manual', { patient: { identifiers: [{ value: 'OTHER' }] } });
    expect(again.status).to.equal(409);
    expect((await unmatched()).results).to.deep.equal([]);
  });

  it('matches at once a result published after its order', async () => {
    await publish(heldResult('r-after-order', 'S1'));
    await record.waitFor(3);
    const oru = lastOru(3);
    expect(oru.get('PID-3[1].1')).to.equal('284037512345678');
    expect(oru.get('PID-5[2].1')).to.equal('NOËL');
    expect(oru.get('OBR-2.1')).to.equal('CMD-77');
    // Three results, three ORUs: the late-order one was not sent twice.
    expect(new Set(record.received.map((m) => controlIdOf(m.text))).size).to.equal(3);
    expect((await unmatched()).results).to.deep.equal([]);
  });
});

function controlIdOf(text: string): string {
  return Hl7Message.parse(text).controlId;
}
