import { expect } from 'chai';
import { join } from 'node:path';
import { Hl7Message } from '../../adapters/hl7';
import { SimulatedRecord } from '../../simulators/record';
import { runAstm } from '../../simulators/astm';
import { simulatePoct1a } from '../../simulators/poct1a-device';
import { tempDir } from '../support/net';
import { startHubProcess, waitUntil, type HubProcess } from '../support/hub-process';
import { parseWithPython, pyComponents } from '../support/python-hl7';
import { sharedFixture } from '../support/shared';

/** Issue 3 through the running hub and its site flow: devices in, ORU out, python3-hl7 checks. */
describe('devices to the record through the running hub (site flow)', function () {
  this.timeout(120_000);
  let data: ReturnType<typeof tempDir>;
  let record: SimulatedRecord;
  let hub: HubProcess;

  before(async () => {
    data = tempDir();
    record = await new SimulatedRecord().start();
    hub = await startHubProcess(join(data.dir, 'hub'), { EHR_MLLP: `127.0.0.1:${record.port}`, ASTM_PROFILE: 'siemens-dca-vantage' });
    await waitUntil(async () => (await fetch(`${hub.url}/passerelle/api/health`)).status === 200, 30_000, () => `healthy hub:\n${hub.output()}`);
  });

  after(async () => {
    await hub?.stop();
    await record?.stop();
    data?.remove();
  });

  it('a DCA Vantage capture played over TCP reaches the record as an ORU with its three results', async () => {
    const outcome = await runAstm({ tcp: `127.0.0.1:${hub.env.ASTM_TCP_PORT}`, file: sharedFixture('astm', 'siemens-dca-vantage.txt'), log: () => undefined });
    expect(outcome.failed).to.deep.equal([]);
    await record.waitFor(1);
    const oru = parseWithPython(record.received[0].bytes);
    const obx = oru.segments.filter((s) => s.name === 'OBX').map((_, k) => ({
      code: pyComponents(oru, 'OBX', 3, k + 1) ?? [],
      value: (pyComponents(oru, 'OBX', 5, k + 1) ?? []).join('^'),
      unit: pyComponents(oru, 'OBX', 6, k + 1)?.[0],
    }));
    expect(obx.map((o) => o.value)).to.deep.equal(['63.7', '230.8', '27.6']);
    expect(obx.map((o) => o.unit)).to.deep.equal(['mg/L', 'mg/dL', 'mg/g']);
    expect(obx.map((o) => o.code.includes('Alb') || o.code.includes('Crt') || o.code.includes('Ratio'))).to.deep.equal([true, true, true]);
    expect(pyComponents(oru, 'PID', 3)?.[0]).to.equal('BU24R554'); // the patient id the device sent in P.3
  });

  it('a POCT1-A device conversation delivers its patient results and keeps its QC away from the record', async () => {
    const before = record.received.length;
    await simulatePoct1a(['--port', hub.env.POCT1A_PORT, '--patients', '2', '--qc', '1']);
    await record.waitFor(before + 2);
    const orus = record.received.slice(before).map((m) => Hl7Message.parse(m.text));
    expect(orus.map((m) => m.messageType)).to.deep.equal(['ORU^R01^ORU_R01', 'ORU^R01^ORU_R01']);
    for (const oru of orus) expect(oru.get('OBX-3.1')).to.equal('4548-4'); // HbA1c, LOINC
    // The record has the ORUs; the hub marks them accepted once it has read the ACKs, a moment later.
    const accepted = async () => {
      const results = await (await fetch(`${hub.url}/passerelle/api/results?limit=20`)).json();
      return results.results.filter((r: { deliveries: Array<{ state: string }> }) => r.deliveries.some((d) => d.state === 'accepted')).length;
    };
    await waitUntil(async () => (await accepted()) >= 3, 10_000, () => 'the DCA result and the two POCT1-A results accepted');
    // The QC went to .../qc: no ORU beyond the two patients, whatever the wait.
    await waitUntil(async () => {
      const { messages } = await (await fetch(`${hub.url}/passerelle/api/outbound?state=pending`)).json();
      return messages.length === 0;
    }, 10_000);
    expect(record.received.length).to.equal(before + 2);
  });
});
