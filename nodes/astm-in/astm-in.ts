/**
 * passerelle-astm-in: an analyser speaking ASTM (E1381 link, E1394 records) over TCP (the hub
 * listens, or connects out) or a serial line. Each transfer's raw bytes are journaled before the
 * instrument gets the ACK of its terminator frame; the results are mapped with the device's
 * profile, matched to their patient, journaled each as its own entry, then published on the bus
 * (passerelle/v1/<site>/<kind>/<device>/result, QC on .../qc) and sent on the output.
 * What cannot be read is journaled as rejected and reported (Catch nodes).
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { createHash } from 'node:crypto';
import { AstmLink, builtinProfiles, getProfile, mapTransfer, type DeviceProfile, type LinkOptions, type MappedTransfer, type TransferSegment } from '../../adapters/astm';
import {
  type AstmTransport, type FlowControl, type Parity, SerialTransport, TcpConnectTransport, TcpListenTransport, type TransportStatus,
} from '../../adapters/astm/transport';
import * as readiness from '../../adapters/common/readiness';
import type { Store } from '../../adapters/journal';
import { matchResult } from '../../adapters/matching';
import { topicFor, type Result } from '../../adapters/model';
import { Outbox } from '../../adapters/outbox';
import type { BusNode } from '../bus/bus';
import { hubSettings, openStore } from '../hub-settings';
import { outboxOnBus } from '../outbox-on-bus';
import { NodeStatus, shortError } from '../status';

export type AstmTransportKind = 'tcp-listen' | 'tcp-connect' | 'serial';

interface AstmInDef extends NodeDef {
  bus: string;
  transport: AstmTransportKind;
  host: string;
  port: string | number;
  serialPath: string;
  baudRate: string | number;
  dataBits: string | number;
  parity: Parity;
  stopBits: string | number;
  flowControl: FlowControl;
  profile: string;
  deviceId: string;
  deviceClass: string;
  /** Seconds; empty: the profile's or the standard's. */
  receiveTimeout: string | number;
  replyTimeout: string | number;
  /** '' (the profile's), 'strict' or 'lenient'. */
  frameNumbers: string;
}

export const DEVICE_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** The profile setting that picks a shipped profile from each message's header. */
export const AUTO_PROFILE = 'auto';
export const ASTM_CONTENT_TYPE = 'application/x-astm';

/** One output message per result or control. */
export interface AstmInOutput {
  topic: string;
  payload: Result;
  journalId: string;
  qc: boolean;
}

function seconds(value: string | number | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : undefined;
}

/** Any record in the text (a segment after the terminator frame is usually only the trailer and EOT). */
function holdsRecords(text: Buffer): boolean {
  return /[A-Za-z]/.test(text.toString('latin1'));
}

module.exports = function register(RED: NodeAPI): void {
  function AstmInNode(this: Node, def: AstmInDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(node);
    const settings = hubSettings(RED);
    const kind: AstmTransportKind = def.transport || 'tcp-listen';
    const deviceId = def.deviceId || '';
    const deviceClass = def.deviceClass || 'analyser';
    // The site flow carries a serial input that stays off until ASTM_SERIAL_PATH names a port.
    if (kind === 'serial' && !def.serialPath) return status.idle(RED._('passerelle-astm-in.status.no-serial-port'));

    const refuse = (reason: string) => {
      status.idle(RED._('passerelle-astm-in.status.not-configured'));
      node.error(RED._('passerelle-astm-in.errors.config', { reason }));
    };
    if (!DEVICE_ID.test(deviceId)) return refuse(RED._('passerelle-astm-in.errors.device-id', { value: deviceId }));
    // 'auto': each message mapped with the profile its header names, the generic one otherwise.
    const detect = def.profile === AUTO_PROFILE;
    let profile: DeviceProfile;
    try {
      profile = getProfile(detect || !def.profile ? 'astm-generic' : def.profile);
    } catch (err) {
      return refuse(shortError(err, 200));
    }
    const port = Number(def.port);
    if (kind !== 'serial' && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      return refuse(RED._('passerelle-astm-in.errors.port', { value: String(def.port ?? '') }));
    }
    if (kind === 'tcp-connect' && !def.host) return refuse(RED._('passerelle-astm-in.errors.host'));

    const channel = `astm:${deviceId}`;
    const linkOptions: LinkOptions = {
      ...profile.link,
      side: 'computer',
      ...(seconds(def.receiveTimeout) ? { receiveTimeoutMs: seconds(def.receiveTimeout) } : {}),
      ...(seconds(def.replyTimeout) ? { replyTimeoutMs: seconds(def.replyTimeout) } : {}),
      ...(def.frameNumbers === 'strict' || def.frameNumbers === 'lenient' ? { frameNumbers: def.frameNumbers } : {}),
    };
    const timeFormat = new Intl.DateTimeFormat('fr-FR', { timeZone: settings.timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit' });

    const store: Store = openStore(RED);
    const outbox = new Outbox(store, channel, (entry) => entry.raw, (err) => node.warn(RED._('passerelle-astm-in.errors.publish', { reason: shortError(err, 200) })));
    let transport: AstmTransport | undefined;
    let lastResultAt: number | undefined;
    let lastError: string | undefined;
    /** The line failed and is being tried again (yellow), rather than something failing (red). */
    let retrying = false;
    let lastWarned: string | undefined;
    let connections = 0;

    const showStatus = () => {
      if (lastError) return retrying ? status.waiting(lastError) : status.failing(lastError);
      if (connections === 0) return status.waiting(RED._('passerelle-astm-in.status.waiting'));
      if (lastResultAt !== undefined) return status.working(RED._('passerelle-astm-in.status.result', { time: timeFormat.format(lastResultAt) }));
      status.working(RED._('passerelle-astm-in.status.connected'));
    };

    const drain = () => published.drain();

    /** A transfer's bytes the link could not finish (timeout, restart, closed line): journaled as rejected, reported. */
    const journalRejected = (raw: Buffer, peer: string, reason: string, message: string) => {
      const journalId = store.journalInbound({ channel, peer, contentType: ASTM_CONTENT_TYPE, raw, status: 'rejected', error: reason });
      lastError = shortError(reason, 19);
      retrying = false;
      node.error(RED._(message, { peer, journalId, reason }), { topic: topicFor({ site: settings.siteId, kind: 'hub', source: deviceId, event: 'error' }), payload: { journalId, channel, peer, error: reason } });
      showStatus();
      return journalId;
    };

    /**
     * Keeps one segment (the records up to a terminator) for good: raw bytes, then each result as
     * its own entry to publish, in one transaction. Resolves once committed: the link then sends
     * the ACK. Throws only when the store fails: the link answers NAK and the instrument resends.
     */
    const keep = async (segment: TransferSegment, peer: string): Promise<void> => {
      const receivedAt = new Date();
      const rawSha256 = createHash('sha256').update(segment.raw).digest('hex');
      let mapped: MappedTransfer | undefined;
      let unreadable: string | undefined;
      try {
        mapped = mapTransfer(segment.text, profile, { site: settings.siteId, deviceClass, deviceId, receivedAt, rawSha256 }, detect);
      } catch (err) {
        unreadable = (err as Error).message;
      }
      if (!mapped) {
        journalRejected(segment.raw, peer, unreadable ?? 'unreadable', 'passerelle-astm-in.errors.unreadable');
        return;
      }
      const outputs: AstmInOutput[] = [];
      const problems = [...mapped.skipped.map((s) => `${s.order}: ${s.reason}`), ...mapped.warnings];
      let problemId: string | undefined;
      store.transaction(() => {
        const rawId = store.journalInbound({ channel, peer, contentType: ASTM_CONTENT_TYPE, raw: segment.raw, status: 'accepted' });
        const lists: Array<[Result[], 'result' | 'qc']> = [[mapped!.results, 'result'], [mapped!.controls, 'qc']];
        for (const [list, event] of lists) {
          for (const mappedResult of list) {
            let result: Result = { ...mappedResult, raw: { ...mappedResult.raw, journalId: rawId } };
            if (event === 'result') {
              try {
                result = matchResult(store, result);
              } catch (err) {
                node.warn(RED._('passerelle-astm-in.errors.matching', { reason: shortError(err, 200) }));
              }
            }
            const topic = topicFor({ site: settings.siteId, kind: result.kind, source: deviceId, event });
            const journalId = store.journalInbound({
              channel, peer, contentType: 'application/json', raw: Buffer.from(JSON.stringify(result), 'utf8'), status: 'accepted', publishTopic: topic, resultId: result.id,
            });
            outputs.push({ topic, payload: result, journalId, qc: event === 'qc' });
          }
        }
        if (problems.length > 0) {
          problemId = store.journalInbound({ channel, peer, contentType: ASTM_CONTENT_TYPE, raw: segment.raw, status: 'rejected', error: problems.join('; ').slice(0, 2000) });
        }
      });
      if (problemId) {
        const reason = problems.join('; ');
        lastError = shortError(problems[0], 19);
        retrying = false;
        node.error(RED._('passerelle-astm-in.errors.mapping', { peer, journalId: problemId, count: problems.length, reason }), {
          topic: topicFor({ site: settings.siteId, kind: 'hub', source: deviceId, event: 'error' }),
          payload: { journalId: problemId, channel, peer, error: reason, skipped: mapped.skipped, warnings: mapped.warnings },
        });
      } else if (outputs.length > 0) {
        lastError = undefined;
      }
      if (outputs.length > 0) lastResultAt = Date.now();
      showStatus();
      drain();
      for (const out of outputs) node.send({ ...out });
    };

    const createLink = (peer: string): AstmLink => {
      const link = new AstmLink({
        ...linkOptions,
        beforeFinalAck: (segment) => keep(segment, peer).catch((err: unknown) => {
          lastError = shortError(err, 19);
          retrying = false;
          node.error(RED._('passerelle-astm-in.errors.store', { reason: shortError(err, 200) }));
          showStatus();
          throw err;
        }),
      });
      link.on('message', (message) => {
        // A device that sends no terminator record (L) is kept here, after its EOT.
        const rest = message.unconfirmed;
        if (rest && holdsRecords(rest.text)) {
          keep(rest, peer).catch((err: unknown) => node.error(RED._('passerelle-astm-in.errors.store', { reason: shortError(err, 200) })));
        }
      });
      link.on('incomplete', (incomplete) => {
        const rest = incomplete.unconfirmed ?? incomplete;
        if (rest.raw.length === 0 || (incomplete.reason === 'closed' && !holdsRecords(rest.text))) return;
        try {
          journalRejected(rest.raw, peer, `incomplete transfer (${incomplete.reason}), ${incomplete.frames} frame(s)`, 'passerelle-astm-in.errors.incomplete');
        } catch (err) {
          node.error(RED._('passerelle-astm-in.errors.store', { reason: shortError(err, 200) }));
        }
      });
      link.on('frame', (frame) => {
        if (frame.outcome === 'rejected') node.log(RED._('passerelle-astm-in.log.frame-refused', { peer, reason: frame.reason ?? 'format' }));
      });
      return link;
    };

    const onStatus = (s: TransportStatus) => {
      connections = s.connections;
      if (s.state === 'connected') {
        lastError = undefined;
        lastWarned = undefined;
      }
      if (s.state === 'listening' || s.state === 'connected') readiness.ready(node.id);
      if (s.state === 'error' && s.error) {
        lastError = shortError(s.error, 19);
        retrying = s.retryInMs !== undefined;
        // Once per outage, not at every attempt of a device that stays off for the night.
        if (s.error.message !== lastWarned) node.warn(RED._('passerelle-astm-in.errors.line', { peer: s.peer ?? '', reason: s.error.message }));
        lastWarned = s.error.message;
      }
      showStatus();
    };

    try {
      if (kind === 'serial') {
        transport = new SerialTransport({
          path: def.serialPath,
          baudRate: Number(def.baudRate) || 9600,
          dataBits: (Number(def.dataBits) || 8) as 5 | 6 | 7 | 8,
          parity: def.parity || 'none',
          stopBits: (Number(def.stopBits) || 1) as 1 | 1.5 | 2,
          flowControl: def.flowControl || 'none',
          createLink,
        });
      } else if (kind === 'tcp-connect') {
        transport = new TcpConnectTransport({ host: def.host, port, createLink });
      } else {
        transport = new TcpListenTransport({ host: def.host || '127.0.0.1', port, createLink });
      }
    } catch (err) {
      store.close();
      return refuse(shortError(err, 200));
    }
    transport.on('status', onStatus);
    // A client (tcp-connect) is no listener: the hub is ready whether the device is up or not.
    if (kind !== 'tcp-connect') readiness.starts(node.id, `${node.type} ${node.id}: ASTM ${kind === 'serial' ? def.serialPath : `port ${port}`}`);
    status.waiting(RED._('passerelle-astm-in.status.waiting'));
    transport.start().then(
      () => showStatus(),
      (err: Error) => {
        readiness.failedToStart(node.id, `${node.type} ${node.id}: port ${port}: ${err.message}`);
        lastError = shortError(err, 19);
        retrying = false;
        showStatus();
        node.error(RED._('passerelle-astm-in.errors.listen', { port, reason: err.message }));
      },
    );

    const published = outboxOnBus(def.bus ? (RED.nodes.getNode(def.bus) as BusNode | null) : null, node, outbox, (err) =>
      node.error(RED._('passerelle-astm-in.errors.bus', { reason: shortError(err, 200) })),
    );

    node.on('close', (_removed: boolean, done: () => void) => {
      readiness.forget(node.id);
      const closing = async () => {
        await transport?.close();
        await published.close();
        store.close();
      };
      closing().then(done, (err: unknown) => {
        node.error(shortError(err, 200));
        done();
      });
    });
  }
  RED.nodes.registerType('passerelle-astm-in', AstmInNode);

  // The editor's profile list: the shipped profiles, id and model.
  const httpAdmin = (RED as unknown as { httpAdmin?: { get(path: string, ...handlers: unknown[]): void } }).httpAdmin;
  const auth = (RED as unknown as { auth?: { needsPermission(p: string): unknown } }).auth;
  if (httpAdmin && auth) {
    httpAdmin.get('/passerelle/astm/profiles', auth.needsPermission('passerelle-astm-in.read'), (_req: unknown, res: { json(v: unknown): void }) => {
      res.json([...builtinProfiles().values()].map((p) => ({ id: p.id, manufacturer: p.manufacturer, model: p.model })));
    });
  }
};
