/**
 * passerelle-to-record: canonical results → HL7v2 ORU^R01 → the patient record over MLLP.
 * Results come from the bus (a durable subscription: the broker is acknowledged only once the
 * ORU is in the outbound queue on disk) or from a wire. Each is journaled with its raw bytes,
 * indexed for the results board, queued under a stable control ID and delivered in order by a
 * DeliveryWorker; ACKs are matched by control ID. Unmatched patients are held, never sent.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { DeliveryWorker, type DeliveryEvent } from '../../adapters/delivery';
import { registerDestination } from '../../adapters/delivery/registry';
import { buildOru, buildPcd01Oru, encodeMessage, MllpClient, type Hl7Charset } from '../../adapters/hl7';
import { pcd01Coding } from '../../adapters/vitals';
import { parseResult, resultFilter, topicFor, validateResult, type Result } from '../../adapters/model';
import type { Store } from '../../adapters/journal';
import { matchResult } from '../../adapters/matching';
import type { BusNode } from '../bus/bus';
import { acceptFromWire, journalingHandler, RefusedInputError, subscribeOnBus } from '../bus-subscriptions';
import { hubSettings, openStore } from '../hub-settings';
import { NodeStatus, shortError } from '../status';
import { parseEndpoint } from '../../adapters/common/endpoint';
import { DeliveryTopics } from '../delivery-topics';

interface ToRecordDef extends NodeDef {
  bus: string;
  topic: string;
  endpoint: string;
  tls: string;
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  charset: Hl7Charset;
  ackTimeout: string | number;
  maxAttempts: string | number;
  window: string | number;
  /** Longest wait between two tries, in seconds (back-off doubles from 1 s up to it). */
  retryMax: string | number;
  /** How vitals are written: 'v2.5-loinc' (default) or 'ihe-pcd-01'. Other results are always v2.5. */
  format?: RecordFormat;
}

export type RecordFormat = 'v2.5-loinc' | 'ihe-pcd-01';
const FORMATS: readonly RecordFormat[] = ['v2.5-loinc', 'ihe-pcd-01'];

interface TlsConfigNode extends Node {
  addTLSOptions(options: Record<string, unknown>): void;
}

/** The status dot is refreshed on a timer, not per message: counting the queue costs a query. */
const STATUS_EVERY_MS = 1000;

function positive(value: string | number | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

module.exports = function register(RED: NodeAPI): void {
  function ToRecordNode(this: Node, def: ToRecordDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(node);
    const settings = hubSettings(RED);
    const destination = node.id;

    let endpoint: { host: string; port: number };
    try {
      endpoint = parseEndpoint(def.endpoint);
    } catch (err) {
      status.idle(RED._('passerelle-to-record.status.not-configured'));
      node.error(RED._('passerelle-to-record.errors.endpoint', { value: def.endpoint || '', reason: (err as Error).message }));
      return;
    }

    const format = def.format || 'v2.5-loinc';
    if (!FORMATS.includes(format)) {
      status.idle(RED._('passerelle-to-record.status.not-configured'));
      node.error(RED._('passerelle-to-record.errors.format', { value: String(format) }));
      return;
    }

    const store: Store = openStore(RED);
    const tls: Record<string, unknown> = {};
    const tlsNode = def.tls ? (RED.nodes.getNode(def.tls) as TlsConfigNode | null) : null;
    tlsNode?.addTLSOptions(tls);
    const transport = new MllpClient({ ...endpoint, tls: def.tls ? tls : undefined });
    const worker = new DeliveryWorker({
      store,
      destination,
      transport,
      ackTimeoutMs: positive(def.ackTimeout, 30) * 1000,
      maxAttempts: positive(def.maxAttempts, 5),
      window: positive(def.window, 1),
      backoff: { initialMs: 1000, maxMs: positive(def.retryMax, 30) * 1000, factor: 2 },
    });
    const oruOptions = {
      sendingApplication: def.sendingApplication || 'PASSERELLE',
      sendingFacility: def.sendingFacility || settings.siteId,
      receivingApplication: def.receivingApplication || '',
      receivingFacility: def.receivingFacility || '',
      charset: def.charset || 'UNICODE UTF-8',
      timeZone: settings.timeZone,
    } as const;
    // PCD-01 is the form of device observations: only vitals take it, other results stay v2.5.
    const oruFor = (result: Result, controlId: string): string =>
      format === 'ihe-pcd-01' && result.kind === 'vitals'
        ? buildPcd01Oru(result, { ...oruOptions, controlId }, pcd01Coding)
        : buildOru(result, { ...oruOptions, controlId });
    // Topic of each queued result's delivery events; after a restart, unknown ones go to the hub's topic.
    const eventTopics = new DeliveryTopics(settings.siteId, node.id);
    let held = 0;

    const publish = (topic: string, payload: unknown) => {
      busConnection?.current()?.publish(topic, JSON.stringify(payload)).catch((err: unknown) => node.warn(`bus: ${shortError(err, 200)}`));
    };

    /** Keeps refused bytes in the journal, says so on the bus, and throws a clear error. */
    const reject = (raw: Buffer, channel: string, err: unknown): never => {
      const reason = (err as Error).message;
      const journalId = store.journalInbound({ channel, contentType: 'application/json', raw, status: 'rejected', error: reason });
      publish(topicFor({ site: settings.siteId, kind: 'hub', source: node.id, event: 'error' }), { journalId, channel, error: reason, at: new Date().toISOString() });
      throw new RefusedInputError(RED._('passerelle-to-record.errors.invalid', { channel, journalId, reason }));
    };

    /** Journals, indexes and queues one result, in one commit. Throws (after journaling) what cannot be sent. */
    const accept = (raw: Buffer, channel: string, parsed?: unknown): Result => {
      let result: Result;
      let queued: { duplicate: boolean } | undefined;
      try {
        // A result without its patient finds it through the order indexed for its specimen.
        result = matchResult(store, parsed === undefined ? parseResult(raw) : validateResult(parsed));
        const valid = result;
        const matched = valid.patient?.matched === true;
        queued = store.transaction(() => {
          const inboundId = store.journalInbound({ channel, contentType: 'application/json', raw, status: 'accepted', resultId: valid.id });
          store.recordResult(valid, inboundId);
          if (!matched) return undefined; // held: listed, never sent under a guessed identity
          return store.enqueue({
            destination,
            dedupeKey: valid.id,
            resultId: valid.id,
            inboundId,
            contentType: 'application/hl7-v2',
            build: (controlId) => encodeMessage(oruFor(valid, controlId), oruOptions.charset).bytes,
          });
        });
      } catch (err) {
        return reject(raw, channel, err);
      }
      const topic = topicFor({ site: result.source.site, kind: result.kind, source: result.source.deviceId, event: 'delivery' });
      if (!queued) {
        held += 1;
        publish(topic, { destination, resultId: result.id, state: 'held', reason: 'patient not matched', at: Date.now() });
      } else if (!queued.duplicate) {
        eventTopics.remember(result.id, topic);
        worker.kick();
      }
      return result;
    };

    const showStatus = () => {
      const depth = store.depth(destination);
      const queued = depth.pending + depth.waiting + depth.sent;
      const { connected, lastError } = worker.status;
      const text = RED._('passerelle-to-record.status.queue', { queued, dead: depth.dead, held });
      if (lastError && !connected) status.failing(`${RED._('passerelle-to-record.status.unreachable')} · ${queued}`);
      else if (depth.waiting > 0) status.waiting(text);
      else status.working(text);
    };

    worker.on('delivery', (event: DeliveryEvent) => {
      const topic = eventTopics.of(event);
      publish(topic, event);
      node.send({ topic, payload: event });
      // The record's own error text may name the patient: the log gets the ACK code only.
      if (event.state === 'dead') node.error(RED._('passerelle-to-record.errors.dead', { controlId: event.controlId, cause: event.ackCode ?? 'no ACK' }), { topic, payload: event });
    });
    worker.on('error', (err: Error) => node.error(err.message));
    const unregister = registerDestination(destination, () => worker.kick());
    worker.start();
    const statusTimer = setInterval(showStatus, STATUS_EVERY_MS);
    showStatus();

    acceptFromWire(node, accept);

    const filter = def.topic || resultFilter(settings.siteId);
    const busConnection = subscribeOnBus(node, RED.nodes.getNode(def.bus) as BusNode | null, [[filter, journalingHandler(node, accept)]], {
      subscribed: showStatus,
      failed: (reason) => {
        status.failing(RED._('passerelle-to-record.status.bus-down'));
        node.error(RED._('passerelle-to-record.errors.bus', { reason }), { payload: { error: reason } });
      },
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      unregister();
      const closing = async () => {
        await busConnection?.close();
        await worker.stop();
        await transport.close();
        store.close();
      };
      closing().then(done, (err: unknown) => {
        node.error(shortError(err, 200));
        done();
      });
    });
  }
  RED.nodes.registerType('passerelle-to-record', ToRecordNode);
};
