/**
 * node-red-node-test-helper set up for Passerelle nodes: a real embedded broker, a temporary
 * data directory, and RED.settings.passerelle pointing at both, as the hub would set them.
 */
import type { EventEmitter } from 'node:events';
import { startBroker, type RunningBroker } from '../../adapters/bus';
import { tempDir } from '../support/net';

/** The parts of node-red-node-test-helper these tests use (it ships no types). */
export interface TestNode extends EventEmitter {
  id: string;
  receive(msg: object): void;
  /** A sinon spy shared by every node: filter its calls by thisValue. */
  status: { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> };
}
interface TestHelper {
  init(runtimePath: string): void;
  settings(settings: object): void;
  startServer(done: () => void): void;
  stopServer(done: () => void): void;
  load(nodes: unknown, flow: object[], credentials?: object): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): TestNode;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper: TestHelper = require('node-red-node-test-helper');
helper.init(require.resolve('node-red'));

/** The statuses a node showed, oldest first. */
export function statusesOf(node: TestNode): Array<Record<string, string>> {
  return node.status.getCalls().filter((c) => c.thisValue === node).map((c) => c.args[0] as Record<string, string>);
}

export const busNode = require('../../nodes/bus/bus.js');
export const toRecordNode = require('../../nodes/to-record/to-record.js');
export const hl7InNode = require('../../nodes/hl7-in/hl7-in.js');

export interface Harness {
  broker: RunningBroker;
  dataDir: string;
  stop(): Promise<void>;
}

/** Call in before(): one broker for the file; each test gets nodes loaded into it. */
export async function startHarness(): Promise<Harness> {
  const data = tempDir('passerelle-nodes-');
  const broker = await startBroker({ host: '127.0.0.1', port: 0, dataDir: `${data.dir}/broker` });
  helper.settings({ passerelle: { dataDir: data.dir, siteId: 'node-site', timeZone: 'Europe/Paris', bus: { url: broker.url } } });
  await new Promise<void>((resolve) => helper.startServer(resolve));
  return {
    broker,
    dataDir: data.dir,
    stop: async () => {
      await new Promise<void>((resolve) => helper.stopServer(resolve));
      await broker.close();
      data.remove();
    },
  };
}

export { helper };
