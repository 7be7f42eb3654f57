/**
 * An OPC UA instrument end to end through the hub process: the default site flow's OPC UA
 * instrument (OPCUA_ENDPOINT, OPCUA_SECURITY_MODE, LADS_PROFILE), a real OPC UA server (simulators/opcua.ts on node-opcua's server stack), the
 * record's order over MLLP, and a simulated record whose ORU python3-hl7 reads.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { encodeMessage, MllpClient } from '../../adapters/hl7';
import { SimulatedInstrument } from '../../simulators/opcua';
import { SimulatedRecord } from '../../simulators/record';
import { startHubProcess, waitUntil, type HubProcess } from '../support/hub-process';
import { freePort, tempDir } from '../support/net';
import { parseWithPython, pyComponents, pyField } from '../support/python-hl7';

function omlFor(specimenId: string, controlId: string): string {
  return [
    `MSH|^~\\&|DPI|HOSP|PASSERELLE|LAB|20261201080000+0100||OML^O21^OML_O21|${controlId}|P|2.5|||||FRA|UNICODE UTF-8`,
    'PID|1||284037512345678^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO^INS~IPP88^^^HOSP^PI||NOËL^Hélène^^^^^L||19840312|F',
    'ORC|NW|CMD-88^DPI|||||||20261201075500+0100',
    'OBR|1|CMD-88^DPI||GLU^Glucose^L',
    `SPM|1|${specimenId}||BLD`,
    '',
  ].join('\r');
}

describe('an OPC UA (LADS) instrument through the hub process to the record', function () {
  this.timeout(120_000);
  const data = tempDir('passerelle-opcua-hub-');
  let instrument: SimulatedInstrument;
  let record: SimulatedRecord;
  let hub: HubProcess;

  const opensslConf = process.env.OPENSSL_CONF;

  before(async () => {
    instrument = await new SimulatedInstrument({ port: await freePort(), pkiDir: join(data.dir, 'instrument') }).start();
    record = await new SimulatedRecord().start();
    hub = await startHubProcess(join(data.dir, 'hub'), {
      EHR_MLLP: `127.0.0.1:${record.port}`,
      OPCUA_ENDPOINT: instrument.endpointUrl, OPCUA_SECURITY_MODE: 'None', LADS_PROFILE: 'passerelle-simulator',
    });
    await waitUntil(async () => (await fetch(`${hub.url}/passerelle/api/health`)).status === 200, 60_000, () => `flows running:\n${hub.output()}`);
  });
  after(async () => {
    await hub?.stop();
    await record?.stop();
    await instrument?.stop();
    data.remove();
  });

  it('a result appearing on the instrument reaches the record as an ORU^R01 with the order\'s patient, LOINC codes, values and units', async () => {
    const mllp = new MllpClient({ host: '127.0.0.1', port: Number(hub.env.MLLP_IN_PORT) });
    try {
      const ack = await mllp.send(encodeMessage(omlFor('SPL-HUB-1', 'OML-88'), 'UNICODE UTF-8').bytes, 'OML-88', 10_000);
      expect(ack.code).to.equal('AA');
    } finally {
      await mllp.close();
    }
    instrument.publishResult({ specimenId: 'SPL-HUB-1', values: [{ name: 'Glucose', value: 7.2, unit: 'mmol/L' }, { name: 'Hemoglobin', value: 12.9, unit: 'g/dL' }] });
    await waitUntil(() => record.received.some((r) => r.text.includes('SPL-HUB-1')), 60_000, () => `the ORU at the record:\n${hub.output().slice(-3000)}`);
    const message = record.received.find((r) => r.text.includes('SPL-HUB-1'))!;
    const py = parseWithPython(message.bytes);
    expect(pyComponents(py, 'MSH', 9)).to.deep.equal(['ORU', 'R01', 'ORU_R01']);
    expect(pyComponents(py, 'PID', 3, 1, 1)?.[0]).to.equal('284037512345678');
    expect(pyField(py, 'PID', 5)?.[0][0][0]).to.equal('NOËL');
    const obx = [1, 2].map((n) => [pyComponents(py, 'OBX', 3, n)?.[0], pyField(py, 'OBX', 5, n)?.[0][0][0], pyComponents(py, 'OBX', 6, n)?.[0]]);
    expect(obx).to.deep.equal([['15074-8', '7.2', 'mmol/L'], ['718-7', '12.9', 'g/dL']]);
  });

  it('leaves OPENSSL_CONF as this process had it after serving the hub (node-opcua-crypto sets it to "undefined", which breaks every openssl started later)', () => {
    expect(process.env.OPENSSL_CONF).to.equal(opensslConf);
  });
});
