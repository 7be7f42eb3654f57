/**
 * passerelle-to-pacs: imaging events (from the bus, durably, or from a wire) → the stored file
 * sent to the PACS by C-STORE. Each event is journaled and queued for this PACS in the outbound
 * queue on disk, in one commit; a DeliveryWorker sends the queue in order through a StoreScu
 * (the file's own bytes, its own transfer syntax), retries with back-off, dead-letters after the
 * last attempt, and reports every delivery on the bus and the output.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { DeliveryWorker, type DeliveryEvent } from '../../adapters/delivery';
import { registerDestination } from '../../adapters/delivery/registry';
import { parsePacsEndpoint, StorageCommitter, StoreScu, type CommitmentEvent, type ForwardRequest, type PacsEndpoint } from '../../adapters/dicom';
import type { Store } from '../../adapters/journal';
import { parseImagingEvent, TOPIC_ROOT, topicFor, topicLevel, validateImagingEvent, type ImagingEvent } from '../../adapters/model';
import type { BusNode } from '../bus/bus';
import { acceptFromWire, journalingHandler, RefusedInputError, subscribeOnBus } from '../bus-subscriptions';
import { hubSettings, openStore } from '../hub-settings';
import { NodeStatus, shortError } from '../status';
import { DeliveryTopics } from '../delivery-topics';

interface ToPacsDef extends NodeDef {
  bus: string;
  topic: string;
  /** AET@host:port, or ${PACS_DICOM}. */
  pacs: string;
  callingAeTitle: string;
  tls: string;
  /** Seconds for one object: association, sending, answer. */
  timeout: string | number;
  maxAttempts: string | number;
  retryMax: string | number;
  /** Ask the PACS to commit what it accepted (its reports come to the hub's DICOM in node); 'true' from ${PACS_COMMITMENT}. */
  commitment?: boolean | string;
  /** Minutes without a report before the request is made again. */
  commitOverdue?: string | number;
}

interface TlsConfigNode extends Node {
  addTLSOptions(options: Record<string, unknown>): void;
}

export const FORWARD_CONTENT_TYPE = 'application/vnd.passerelle.dicom-forward+json';
const STATUS_EVERY_MS = 1000;

function positive(value: string | number | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** Every stored object of the site. */
export function storedFilter(site: string): string {
  return `${TOPIC_ROOT}/${topicLevel(site)}/imaging/+/stored`;
}

module.exports = function register(RED: NodeAPI): void {
  function ToPacsNode(this: Node, def: ToPacsDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(node);
    const settings = hubSettings(RED);
    const destination = node.id;

    let pacs: PacsEndpoint;
    // No PACS given (the site flow's PACS_DICOM empty, or unset: Node-RED then leaves "${PACS_DICOM}"): idle, said by the status alone.
    if (/^(\$\{[A-Za-z_][A-Za-z0-9_]*\})?$/.test((def.pacs || '').trim())) return status.idle(RED._('passerelle-to-pacs.status.not-configured'));
    try {
      pacs = parsePacsEndpoint(def.pacs);
    } catch (err) {
      status.idle(RED._('passerelle-to-pacs.status.not-configured'));
      node.error(RED._('passerelle-to-pacs.errors.pacs', { value: def.pacs || '', reason: (err as Error).message }));
      return;
    }

    const store: Store = openStore(RED);
    const tls: Record<string, unknown> = {};
    const tlsNode = def.tls ? (RED.nodes.getNode(def.tls) as TlsConfigNode | null) : null;
    tlsNode?.addTLSOptions(tls);
    const callingAeTitle = (def.callingAeTitle || '').trim() || 'PASSERELLE';
    const transport = new StoreScu({ pacs, callingAeTitle, tls: tlsNode ? tls : undefined });
    const committer = def.commitment === true || def.commitment === 'true'
      ? new StorageCommitter({ store, destination, pacs, callingAeTitle, tls: tlsNode ? tls : undefined, overdueMs: positive(def.commitOverdue, 60) * 60_000 })
      : undefined;
    const worker = new DeliveryWorker({
      store,
      destination,
      transport,
      ackTimeoutMs: positive(def.timeout, 120) * 1000,
      maxAttempts: positive(def.maxAttempts, 5),
      backoff: { initialMs: 1000, maxMs: positive(def.retryMax, 30) * 1000, factor: 2 },
      onAccepted: committer && ((message, now) => committer.objectAccepted(message, now)),
    });
    // Topic of each queued event's deliveries; after a restart, unknown ones go to the hub's topic.
    const eventTopics = new DeliveryTopics(settings.siteId, node.id);

    const publish = (topic: string, payload: unknown) => {
      busConnection?.current()?.publish(topic, JSON.stringify(payload)).catch((err: unknown) => node.warn(`bus: ${shortError(err, 200)}`));
    };

    const reject = (raw: Buffer, channel: string, err: unknown): never => {
      const reason = (err as Error).message;
      const journalId = store.journalInbound({ channel, contentType: 'application/json', raw, status: 'rejected', error: reason });
      publish(topicFor({ site: settings.siteId, kind: 'hub', source: node.id, event: 'error' }), { journalId, channel, error: reason, at: new Date().toISOString() });
      throw new RefusedInputError(RED._('passerelle-to-pacs.errors.invalid', { channel, journalId, reason }));
    };

    /** Journals the event and queues its file for this PACS, in one commit. */
    const accept = (raw: Buffer, channel: string, parsed?: unknown): ImagingEvent => {
      let event: ImagingEvent;
      let queued: { duplicate: boolean };
      try {
        event = parsed === undefined ? parseImagingEvent(raw) : validateImagingEvent(parsed);
        const valid = event;
        const request: ForwardRequest = { path: valid.file.path, sopClassUid: valid.instance.sopClassUid, sopInstanceUid: valid.instance.sopInstanceUid, eventId: valid.id };
        queued = store.transaction(() => {
          const inboundId = store.journalInbound({ channel, contentType: 'application/json', raw, status: 'accepted', resultId: valid.id });
          return store.enqueue({ destination, dedupeKey: valid.id, resultId: valid.id, inboundId, contentType: FORWARD_CONTENT_TYPE, build: () => Buffer.from(JSON.stringify(request)) });
        });
      } catch (err) {
        return reject(raw, channel, err);
      }
      if (!queued.duplicate) {
        eventTopics.remember(event.id, topicFor({ site: event.source.site, kind: 'imaging', source: event.source.deviceId, event: 'delivery' }));
        worker.kick();
      }
      return event;
    };

    const showStatus = () => {
      const depth = store.depth(destination);
      const queued = depth.pending + depth.waiting + depth.sent;
      const { connected, lastError } = worker.status;
      let text = RED._('passerelle-to-pacs.status.queue', { queued, dead: depth.dead });
      if (committer) {
        const commitments = store.commitments().depth(destination);
        text += ` · ${RED._('passerelle-to-pacs.status.to-commit', { count: commitments.waiting + commitments.requested + commitments.resent })}`;
      }
      if (lastError && !connected) status.failing(`${RED._('passerelle-to-pacs.status.unreachable')} · ${queued}`);
      else if (depth.waiting > 0 && lastError) status.waiting(`${text} · ${shortError(lastError, 16)}`);
      else status.working(text);
    };

    worker.on('delivery', (event: DeliveryEvent) => {
      const topic = eventTopics.of(event);
      publish(topic, event);
      node.send({ topic, payload: event });
      if (event.state === 'dead') node.error(RED._('passerelle-to-pacs.errors.dead', { outboundId: event.outboundId, reason: event.reason ?? event.ackCode ?? '' }), { topic, payload: event });
    });
    worker.on('error', (err: Error) => node.error(err.message));
    const commitmentTopic = topicFor({ site: settings.siteId, kind: 'imaging', source: node.id, event: 'commitment' });
    committer?.on('commitment', (event: CommitmentEvent) => {
      publish(commitmentTopic, event);
      node.send({ topic: commitmentTopic, payload: event });
      if (event.state === 'failed') node.error(RED._('passerelle-to-pacs.errors.not-committed', { outboundId: event.outboundId, reason: event.reason ?? '' }), { topic: commitmentTopic, payload: event });
    });
    committer?.on('error', (err: Error) => node.warn(RED._('passerelle-to-pacs.errors.commitment-request', { reason: shortError(err, 200) })));
    const unregister = registerDestination(destination, () => worker.kick());
    worker.start();
    committer?.start();
    const statusTimer = setInterval(showStatus, STATUS_EVERY_MS);
    showStatus();

    acceptFromWire(node, accept);

    const filter = def.topic || storedFilter(settings.siteId);
    const busNode = def.bus ? (RED.nodes.getNode(def.bus) as BusNode | null) : null;
    const busConnection = subscribeOnBus(node, busNode, [[filter, journalingHandler(node, accept)]], {
      subscribed: showStatus,
      failed: (reason) => {
        status.failing(RED._('passerelle-to-pacs.status.bus-down'));
        node.error(RED._('passerelle-to-pacs.errors.bus', { reason }));
      },
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      unregister();
      const closing = async () => {
        await busConnection?.close();
        // A send in flight is cut (it goes again, same queue entry, at the next start) rather
        // than awaited: one object may take minutes, a redeploy must not.
        const stopping = worker.stop();
        await transport.close();
        await stopping;
        await committer?.stop();
        store.close();
      };
      closing().then(done, (err: unknown) => {
        node.error(shortError(err, 200));
        done();
      });
    });
  }
  RED.nodes.registerType('passerelle-to-pacs', ToPacsNode);
};
