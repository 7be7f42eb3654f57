/**
 * passerelle-hl7-in: an MLLP listener for HL7v2 from the record and other systems (orders,
 * admissions, device gateways). Each message is journaled with its raw bytes before the ACK
 * goes back (AA), then published on the bus (passerelle/v1/<site>/hl7/<source>/message) and
 * sent on the node's output. A message that does not parse is journaled as rejected and
 * answered AR; a broken frame is journaled and logged. Both reach Catch nodes.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { buildAck, decodeMessage, encodeMessage, Hl7Message, MllpServer, toHl7Charset, type SpecimenSource } from '../../adapters/hl7';
import { topicFor } from '../../adapters/model';
import { Outbox } from '../../adapters/outbox';
import { indexOrders } from '../../adapters/matching';
import type { InboundEntry, Store } from '../../adapters/journal';
import type { BusNode } from '../bus/bus';
import { hubSettings, openStore } from '../hub-settings';
import { outboxOnBus } from '../outbox-on-bus';
import { NodeStatus, shortError } from '../status';
import * as readiness from '../../adapters/common/readiness';

interface Hl7InDef extends NodeDef {
  bus: string;
  host: string;
  port: string | number;
  tls: string;
  source: string;
  application: string;
  facility: string;
  maxMessageBytes: string | number;
  /** Comma-separated SpecimenSource list, in order of preference. */
  specimenFrom?: string;
}

interface TlsConfigNode extends Node {
  addTLSOptions(options: Record<string, unknown>): void;
}

export const HL7_BUS_SCHEMA = 'passerelle.hl7/1';
const SPECIMEN_SOURCES: readonly SpecimenSource[] = ['spm', 'filler', 'placer'];

/**
 * What goes on the bus for one outbox entry: an inbound HL7 message as passerelle.hl7/1, or a
 * held result a late order matched (journaled as its JSON, published as is on its result topic).
 */
function busPayload(entry: InboundEntry): Buffer | string {
  if (entry.contentType === 'application/json') return entry.raw;
  const { text, charset } = decodeMessage(entry.raw);
  const message = Hl7Message.parse(text);
  return JSON.stringify({
    schema: HL7_BUS_SCHEMA,
    journalId: entry.id,
    receivedAt: new Date(entry.receivedAt).toISOString(),
    channel: entry.channel,
    messageType: message.messageType,
    controlId: message.controlId,
    version: message.version,
    charset,
    text,
  });
}

module.exports = function register(RED: NodeAPI): void {
  function Hl7InNode(this: Node, def: Hl7InDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(node);
    const settings = hubSettings(RED);
    const port = Number(def.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      status.idle(RED._('passerelle-hl7-in.status.not-configured'));
      node.error(RED._('passerelle-hl7-in.errors.port', { value: String(def.port ?? '') }));
      return;
    }
    const specimenFrom = (def.specimenFrom || 'spm,filler').split(',').filter((s): s is SpecimenSource => SPECIMEN_SOURCES.includes(s as SpecimenSource));
    const source = def.source || 'mllp-in';
    const channel = `mllp:${source}`;
    const topic = topicFor({ site: settings.siteId, kind: 'hl7', source, event: 'message' });
    const ackHeader = { sendingApplication: def.application || 'PASSERELLE', sendingFacility: def.facility || settings.siteId, timeZone: settings.timeZone };
    const store: Store = openStore(RED);
    const outbox = new Outbox(store, channel, busPayload, (err) => node.warn(`bus: ${shortError(err, 200)}`));
    let received = 0;
    let lastError: string | undefined;

    const showStatus = (server: MllpServer) => {
      const text = RED._('passerelle-hl7-in.status.listening', { port, connections: server.connections, received });
      if (lastError) status.waiting(`${text} · ${lastError}`);
      else status.working(text);
    };

    /** Journal first, ACK after: the sender is told AA only once the bytes are on disk. */
    const handle = async ({ bytes, peer }: { bytes: Buffer; peer: string }): Promise<Buffer> => {
      let message: Hl7Message;
      try {
        message = Hl7Message.parse(decodeMessage(bytes).text);
      } catch (err) {
        const reason = (err as Error).message;
        const journalId = store.journalInbound({ channel, peer, contentType: 'application/hl7-v2', raw: bytes, status: 'rejected', error: reason });
        lastError = shortError(err, 24);
        node.error(RED._('passerelle-hl7-in.errors.unparsable', { peer, journalId, reason }), { topic, payload: { journalId, peer, error: reason } });
        return encodeMessage(buildAck(undefined, 'AR', { ...ackHeader, controlId: `R${journalId}`.slice(0, 20), text: reason }), 'UNICODE UTF-8').bytes;
      }
      // One commit: the message, the orders it carries, and the held results they now match.
      const journalId = store.transaction(() => {
        const id = store.journalInbound({ channel, peer, contentType: 'application/hl7-v2', raw: bytes, status: 'accepted', publishTopic: topic });
        indexOrders(store, message, { journalId: id, channel, site: settings.siteId, options: { specimenFrom: specimenFrom.length ? specimenFrom : undefined } });
        return id;
      });
      received += 1;
      lastError = undefined;
      published.drain();
      node.send({ topic, payload: { journalId, messageType: message.messageType, controlId: message.controlId, text: message.toString() }, hl7: message });
      // The ACK repeats the message's MSH-18, so it is written in that character set.
      return encodeMessage(buildAck(message, 'AA', { ...ackHeader, controlId: `A${journalId}`.slice(0, 20) }), toHl7Charset(message.declaredCharset)).bytes;
    };

    const tls: Record<string, unknown> = {};
    const tlsNode = def.tls ? (RED.nodes.getNode(def.tls) as TlsConfigNode | null) : null;
    tlsNode?.addTLSOptions(tls);
    const server = new MllpServer({
      host: def.host || '127.0.0.1',
      port,
      tls: tlsNode ? tls : undefined,
      maxMessageBytes: Number(def.maxMessageBytes) > 0 ? Number(def.maxMessageBytes) : undefined,
      handler: handle,
    });
    server.on('frameError', ({ peer, reason, raw }: { peer: string; reason: string; raw: Buffer }) => {
      const journalId = store.journalInbound({ channel, peer, contentType: 'application/octet-stream', raw, status: 'rejected', error: reason });
      lastError = shortError(reason, 24);
      node.error(RED._('passerelle-hl7-in.errors.frame', { peer, journalId, reason }), { topic, payload: { journalId, peer, error: reason } });
      showStatus(server);
    });
    server.on('connection', () => showStatus(server));
    server.on('disconnect', () => showStatus(server));
    server.on('error', (err: Error) => {
      lastError = shortError(err, 24);
      status.failing(lastError);
      node.error(err.message);
    });
    readiness.starts(node.id, `${node.type} ${node.id}: MLLP listener`);
    server.listen().then(
      () => {
        readiness.ready(node.id);
        showStatus(server);
      },
      (err: Error) => {
        readiness.failedToStart(node.id, `${node.type} ${node.id}: port ${port}: ${err.message}`);
        status.failing(shortError(err, 24));
        node.error(RED._('passerelle-hl7-in.errors.listen', { port, reason: err.message }));
      },
    );

    const published = outboxOnBus(RED.nodes.getNode(def.bus) as BusNode | null, node, outbox, (err) =>
      node.error(RED._('passerelle-hl7-in.errors.bus', { reason: shortError(err, 200) })),
    );

    node.on('close', (_removed: boolean, done: () => void) => {
      readiness.forget(node.id);
      const closing = async () => {
        await server.close();
        await published.close();
        store.close();
      };
      closing().then(done, (err: unknown) => {
        node.error(shortError(err, 200));
        done();
      });
    });
  }
  RED.nodes.registerType('passerelle-hl7-in', Hl7InNode);
};
