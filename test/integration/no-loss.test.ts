import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BusClient } from '../../adapters/bus';
import { Hl7Message } from '../../adapters/hl7';
import { SimulatedRecord } from '../../simulators/record';
import { freePort, tempDir } from '../support/net';
import { startHubProcess, waitUntil, type HubProcess } from '../support/hub-process';

const ROOT = resolve(__dirname, '..', '..', '..');
const TOTAL = 1000;
const KILL_AT = 500;
const IN_FLIGHT = 20;
const TOPIC = 'passerelle/v1/test-site/biology/yumizen-h500-1/result';

describe('nothing lost across kill -9', function () {
  this.timeout(300_000);

  it(`delivers all ${TOTAL} results published while the record was down and the hub was killed mid-way, repeats keeping their MSH-10`, async () => {
    const data = tempDir();
    const recordPort = await freePort();
    const example = JSON.parse(readFileSync(join(ROOT, 'docs', 'schema', 'result.example.json'), 'utf8'));
    const flow = JSON.parse(readFileSync(join(ROOT, 'flows', 'site.json'), 'utf8')) as Array<Record<string, unknown>>;
    flow.filter((n) => n.type === 'passerelle-to-record').forEach((n) => { n.retryMax = 1; });
    const flowFile = join(data.dir, 'flow.json');
    writeFileSync(flowFile, JSON.stringify(flow));
    const env = { EHR_MLLP: `127.0.0.1:${recordPort}`, PASSERELLE_FLOW_FILE: flowFile, MQTT_PORT: String(await freePort()), PORT: String(await freePort()) };

    let hub: HubProcess = await startHubProcess(join(data.dir, 'hub'), env);
    let record: SimulatedRecord | undefined;
    const bus = await BusClient.connect({ url: hub.mqttUrl, clientId: 'test-analyser' });
    try {
      await waitUntil(async () => (await fetch(`${hub.url}/passerelle/api/health`)).status === 200, 30_000, () => `healthy hub:\n${hub.output()}`);
      // 20 publishes in flight at all times, like several analysers; the kill lands among them.
      let acknowledged = 0;
      let next = 0;
      const killAndRestart = (async () => {
        await waitUntil(() => acknowledged >= KILL_AT, 60_000, () => `${KILL_AT} acknowledged`);
        await hub.kill9();
        hub = await startHubProcess(join(data.dir, 'hub'), env);
      })();
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
        while (next < TOTAL) {
          const i = next++;
          // Resolves on the broker's PUBACK; while the hub is down mqtt.js waits and sends it again.
          await bus.publish(TOPIC, JSON.stringify({ ...example, id: `result-${i}`, order: { ...example.order, placerNumber: `P${i}` } }));
          acknowledged += 1;
        }
      }));
      await killAndRestart;
      expect(acknowledged).to.equal(TOTAL);

      record = await new SimulatedRecord({ port: recordPort }).start();
      const controlIds = new Map<string, Set<string>>();
      let oruCount = 0;
      await waitUntil(() => {
        for (const m of record!.received.splice(0)) {
          oruCount += 1;
          const placer = Hl7Message.parse(m.text).get('OBR-2')!;
          if (!controlIds.has(placer)) controlIds.set(placer, new Set());
          controlIds.get(placer)!.add(m.controlId);
        }
        return controlIds.size === TOTAL;
      }, 120_000, () => `${TOTAL} distinct results at the record (have ${controlIds.size})`);

      expect([...controlIds.keys()].sort()).to.deep.equal(Array.from({ length: TOTAL }, (_, i) => `P${i}`).sort());
      const repeatsWithNewId = [...controlIds.entries()].filter(([, ids]) => ids.size > 1);
      expect(repeatsWithNewId, 'a repeat must carry the MSH-10 of its first sending').to.deep.equal([]);
      console.log(`      ${TOTAL} results delivered across kill -9 at #${KILL_AT}: ${oruCount} ORUs at the record, ${oruCount - TOTAL} repeats, each with its first MSH-10`);
    } finally {
      await bus.close();
      await hub.stop();
      await record?.stop();
      data.remove();
    }
  });
});
