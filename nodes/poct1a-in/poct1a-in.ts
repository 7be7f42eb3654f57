/**
 * passerelle-poct1a-in: the hub as a POCT1-A data manager. Point-of-care devices connect over TCP
 * (or TLS); one Poct1Manager per connection plays the conversation (HEL, DST, REQ ROBS, OBS, EOT,
 * END). Each device message is journaled with its raw bytes before its ACK goes out (a store
 * failure makes the ACK an AE: the device keeps its result). Each mapped result is journaled as
 * its own entry with the bus topic it must go to, then published (the outbox):
 *   patient results → matchResult → passerelle/v1/<site>/<kind>/<device>/result, output 1
 *   QC / non-patient results        → passerelle/v1/<site>/<kind>/<device>/qc,     output 2
 * QC results never go on a 'result' topic nor on the first output: they must never reach a record.
 * Documents that cannot be read are journaled as rejected and reported to Catch nodes.
 */
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { Poct1Manager, type DeviceIdentity, type InboundMessage, type MappingContext, type RejectedEvent } from '../../adapters/poct1a';
import { bindSocket } from '../../adapters/poct1a';
import { topicFor, type Result } from '../../adapters/model';
import { matchResult } from '../../adapters/matching';
import { Outbox } from '../../adapters/outbox';
import type { Store } from '../../adapters/journal';
import type { BusClient } from '../../adapters/bus';
import type { BusNode } from '../bus/bus';
import { keepBusConnected } from '../../adapters/bus';
import { hubSettings, openStore } from '../hub-settings';
import { NodeStatus, shortError } from '../status';
import * as readiness from '../../adapters/common/readiness';

interface Poct1aInDef extends NodeDef {
  bus: string;
  host: string;
  port: string | number;
  tls: string;
  deviceClass: string;
  /** 'hel': the device id is DEV.device_id from the HEL; 'prefix': <deviceId>-<DEV.device_id>. */
  deviceIdFrom: 'hel' | 'prefix';
  deviceId: string;
  /** Seconds; 0 never closes a silent connection. */
  idleTimeout: string | number;
  afterEndOfTopic: 'end' | 'stay';
}

interface TlsConfigNode extends Node {
  addTLSOptions(options: Record<string, unknown>): void;
}

/** The channel prefix of everything this kind of node journals. */
export const POCT1A_CHANNEL_PREFIX = 'poct1a:';
/** Unpublished entries looked at when the bus connects, to replay what a crash left behind. */
/** Sockets still open this long after close are destroyed (the close handler must end within 15 s). */
const CLOSE_GRACE_MS = 3_000;

/** One device connection. */
interface Connection {
  peer: string;
  socket: Socket;
  manager: Poct1Manager;
  /** The site's id for the device once its HEL is known. */
  deviceId?: string;
  /** The mapping context the manager reads at each OBS: its deviceId follows the HEL. */
  mapping: Omit<MappingContext, 'received' | 'device'>;
}

/** A topic level and a journal channel name: no separators or wildcards, not too long. */
function cleanId(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) || '_';
}

/** A few words for the status dot: the first observation's value and unit. */
function resultSummary(result: Result): string {
  const obs = result.observations[0];
  if (!obs) return result.status;
  const value = obs.value;
  const text = value === undefined ? '—'
    : typeof value === 'object' ? ('number' in value ? `${value.comparator}${value.number}` : value.code)
      : String(value);
  return [obs.deviceCode.display ?? obs.deviceCode.code, text, obs.unit?.code].filter(Boolean).join(' ');
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

module.exports = function register(RED: NodeAPI): void {
  function Poct1aInNode(this: Node, def: Poct1aInDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(node);
    const settings = hubSettings(RED);
    const port = Number(def.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      status.idle(RED._('passerelle-poct1a-in.status.not-configured'));
      node.error(RED._('passerelle-poct1a-in.errors.port', { value: String(def.port ?? '') }));
      return;
    }
    const idleSeconds = def.idleTimeout === '' || def.idleTimeout === undefined ? 120 : Number(def.idleTimeout);
    if (!Number.isFinite(idleSeconds) || idleSeconds < 0) {
      status.idle(RED._('passerelle-poct1a-in.status.not-configured'));
      node.error(RED._('passerelle-poct1a-in.errors.idle-timeout', { value: String(def.idleTimeout) }));
      return;
    }
    const deviceClass = (def.deviceClass || 'poct').trim();
    const prefix = def.deviceIdFrom === 'prefix' ? cleanId((def.deviceId || '').trim()) : '';
    const afterEndOfTopic = def.afterEndOfTopic === 'stay' ? 'stay' : 'end';
    const site = settings.siteId;
    const store: Store = openStore(RED);
    const connections = new Set<Connection>();
    const outboxes = new Map<string, Outbox>();
    let last: { text: string; error: boolean } | undefined;
    let listening = false;
    let closing = false;

    const showStatus = () => {
      if (!listening) return;
      const devices = [...connections];
      const who = devices.length === 0 ? RED._('passerelle-poct1a-in.status.listening', { port })
        : devices.length === 1 ? shorten(devices[0].deviceId ?? devices[0].peer, 16)
          : RED._('passerelle-poct1a-in.status.devices', { count: devices.length });
      const text = last ? `${who} · ${last.text}` : who;
      if (last?.error) status.waiting(text);
      else status.working(text);
    };

    /** The site's id for a device, from its HEL (or the prefix alone / the peer before one). */
    const deviceIdOf = (identity: DeviceIdentity | undefined, peer: string): string => {
      const own = identity?.deviceId ? cleanId(identity.deviceId) : undefined;
      if (prefix) return own ? `${prefix}-${own}` : prefix;
      return own ?? cleanId(peer);
    };
    const channelOf = (conn: Connection) => `${POCT1A_CHANNEL_PREFIX}${conn.deviceId ?? cleanId(conn.peer)}`;

    const nameDevice = (conn: Connection, identity: DeviceIdentity) => {
      conn.deviceId = deviceIdOf(identity, conn.peer);
      conn.mapping.deviceId = conn.deviceId; // results of this connection now name the device
      showStatus();
    };

    const outboxFor = (channel: string): Outbox => {
      let outbox = outboxes.get(channel);
      if (!outbox) {
        // The journal holds the result's JSON: that is what goes on the bus.
        outbox = new Outbox(store, channel, (entry) => entry.raw, (err) => node.warn(`bus: ${shortError(err, 200)}`));
        outboxes.set(channel, outbox);
      }
      return outbox;
    };
    /** Drains still running, awaited before the store closes. */
    const draining = new Set<Promise<void>>();
    const drain = (outbox: Outbox, client: BusClient) => {
      const run = outbox.drain(client).catch((err: unknown) => node.warn(`bus: ${shortError(err, 200)}`));
      draining.add(run);
      void run.finally(() => draining.delete(run));
    };
    const drainAll = (client: BusClient) => {
      for (const outbox of outboxes.values()) drain(outbox, client);
    };

    /**
     * Called by the manager before it acknowledges a device message: the document's raw bytes and
     * every result mapped from it are journaled in one transaction. If that throws, the ACK is AE.
     */
    const accept = async (conn: Connection, inbound: InboundMessage): Promise<void> => {
      if (closing) throw new Error('the node is closing');
      // The HEL names the device: it is journaled under the device's channel, like what follows.
      if (inbound.message.type === 'HEL.R01') nameDevice(conn, inbound.message.device);
      const mapped = inbound.observations?.results ?? [];
      // Patients are matched first (matching reads the store); QC never is: it has no patient.
      const prepared: Array<{ result: Result; qc: boolean }> = [];
      for (const m of mapped) {
        const qc = m.category !== 'patient';
        prepared.push({ qc, result: qc ? m.result : await Promise.resolve(matchResult(store, m.result)) });
      }
      const channel = channelOf(conn);
      const source = conn.deviceId ?? deviceIdOf(undefined, conn.peer);
      const outputs: Array<{ topic: string; result: Result; journalId: string; qc: boolean }> = [];
      store.transaction(() => {
        const documentId = store.journalInbound({ channel, peer: conn.peer, contentType: 'application/xml', raw: inbound.raw, status: 'accepted' });
        for (const { result: given, qc } of prepared) {
          const result: Result = { ...given, raw: { ...given.raw, journalId: documentId } };
          const topic = topicFor({ site, kind: result.kind, source, event: qc ? 'qc' : 'result' });
          const journalId = store.journalInbound({
            channel, peer: conn.peer, contentType: 'application/json', raw: Buffer.from(JSON.stringify(result), 'utf8'),
            status: 'accepted', resultId: result.id, publishTopic: topic,
          });
          outputs.push({ topic, result, journalId, qc });
        }
      });
      if (outputs.length === 0) return;
      const patients = outputs.filter((o) => !o.qc);
      const latest = patients[patients.length - 1] ?? outputs[outputs.length - 1];
      last = { text: shorten(latest.qc ? `QC ${resultSummary(latest.result)}` : resultSummary(latest.result), 19), error: false };
      showStatus();
      const bus = busConnection?.current();
      const outbox = outboxFor(channel);
      if (bus) drain(outbox, bus);
      for (const { topic, result, journalId, qc } of outputs) {
        const msg = { topic, payload: result, journalId, category: qc ? 'qc' : 'patient', device: source };
        node.send(qc ? [null, msg] : [msg, null]);
      }
    };

    /** A message the manager could not use (or could not store): its bytes go to the journal as rejected. */
    const onRejected = (conn: Connection, event: RejectedEvent) => {
      const channel = channelOf(conn);
      let journalId: string | undefined;
      try {
        journalId = store.journalInbound({ channel, peer: conn.peer, contentType: 'application/xml', raw: event.raw, status: 'rejected', error: event.reason });
      } catch (err) {
        node.warn(RED._('passerelle-poct1a-in.errors.journal', { reason: shortError(err, 200) }));
      }
      last = { text: shorten(RED._('passerelle-poct1a-in.status.rejected', { type: event.messageType ?? '?' }), 19), error: true };
      showStatus();
      const device = conn.deviceId ?? conn.peer;
      const answer = event.controlId !== undefined ? 'AE' : '—';
      node.error(
        RED._('passerelle-poct1a-in.errors.rejected', { device, type: event.messageType ?? '?', journalId: journalId ?? '—', answer, reason: event.reason }),
        { topic: topicFor({ site, kind: 'hub', source: node.id, event: 'error' }), payload: { journalId, channel, device, peer: conn.peer, controlId: event.controlId, messageType: event.messageType, error: event.reason, at: new Date().toISOString() } },
      );
    };

    const onConnection = (socket: Socket) => {
      const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
      if (closing) {
        socket.destroy();
        return;
      }
      const mapping: Connection['mapping'] = { site, deviceClass, deviceId: deviceIdOf(undefined, peer), timeZone: settings.timeZone };
      const conn = { peer, socket, mapping } as Connection;
      conn.manager = new Poct1Manager({
        idleTimeoutMs: idleSeconds * 1000,
        afterEndOfTopic,
        timeZone: settings.timeZone,
        mapping,
        accept: (inbound) => accept(conn, inbound),
      });
      conn.manager.on('hello', (identity: DeviceIdentity) => nameDevice(conn, identity));
      conn.manager.on('rejected', (event: RejectedEvent) => onRejected(conn, event));
      connections.add(conn);
      socket.once('close', () => {
        connections.delete(conn);
        showStatus();
      });
      bindSocket(socket, conn.manager);
      showStatus();
    };

    const tlsNode = def.tls ? (RED.nodes.getNode(def.tls) as TlsConfigNode | null) : null;
    let server: Server;
    if (tlsNode) {
      const options: Record<string, unknown> = {};
      tlsNode.addTLSOptions(options);
      server = createTlsServer(options, onConnection);
      // A handshake that fails is not a device conversation: note it, keep listening.
      server.on('tlsClientError', (err: Error) => {
        last = { text: shorten(shortError(err, 19), 19), error: true };
        showStatus();
        node.warn(RED._('passerelle-poct1a-in.errors.tls', { reason: shortError(err, 200) }));
      });
    } else {
      server = createTcpServer(onConnection);
    }
    const host = (def.host || '').trim() || '127.0.0.1';
    readiness.starts(node.id, `${node.type} ${node.id}: POCT1-A listener`);
    const listened = new Promise<void>((resolve) => {
      const onError = (err: Error) => {
        readiness.failedToStart(node.id, `${node.type} ${node.id}: port ${port}: ${err.message}`);
        status.failing(shortError(err, 19));
        node.error(RED._('passerelle-poct1a-in.errors.listen', { port, reason: err.message }));
        resolve();
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        server.on('error', (err: Error) => {
          status.failing(shortError(err, 19));
          node.error(err.message);
        });
        listening = true;
        readiness.ready(node.id);
        showStatus();
        resolve();
      });
    });

    const busNode = def.bus ? (RED.nodes.getNode(def.bus) as BusNode | null) : null;
    const busConnection = busNode
      ? keepBusConnected(
        () => busNode.connect(node),
        async (client) => {
          // Replays what a crash left unpublished, on every POCT1-A device channel.
          for (const channel of store.channelsWithUnpublished(POCT1A_CHANNEL_PREFIX)) outboxFor(channel);
          client.on('connect', () => drainAll(client)); // after a reconnect
          drainAll(client);
        },
        (err) => node.error(RED._('passerelle-poct1a-in.errors.bus', { reason: shortError(err, 200) })),
      )
      : undefined;

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      readiness.forget(node.id);
      const shutDown = async () => {
        await listened;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const conn of connections) conn.manager.close('closed'); // ends each socket (timers stop)
        const grace = setTimeout(() => { for (const conn of connections) conn.socket.destroy(); }, CLOSE_GRACE_MS);
        await stopped;
        clearTimeout(grace);
        await busConnection?.close();
        await Promise.race([Promise.allSettled([...draining]), new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref())]);
      };
      shutDown()
        .catch((err: unknown) => node.error(shortError(err, 200)))
        .finally(() => {
          store.close();
          status.clear();
          done();
        });
    });
  }
  RED.nodes.registerType('passerelle-poct1a-in', Poct1aInNode);
};
