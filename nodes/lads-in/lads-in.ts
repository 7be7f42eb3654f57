/**
 * passerelle-lads-in: follows a LADS instrument on an OPC UA server. Its device and functional
 * unit states go to the status dot and the second output; each new result, once complete, is
 * journaled as read (the snapshot, raw input), mapped through the instrument's table into
 * canonical results, matched to their patient by specimen id like an analyser's ASTM results,
 * journaled each as its own entry and published on the bus by the outbox
 * (passerelle/v1/<site>/biology/<device>/result), then sent on the first output.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { createHash } from 'node:crypto';
import type { Store } from '../../adapters/journal';
import { matchResult } from '../../adapters/matching';
import { topicFor, type Result } from '../../adapters/model';
import type { LadsProfile, LadsResultSnapshot, LadsStateChange, MappedLadsResult, OpcuaConnection, StateEvent } from '../../adapters/opcua';
import { Outbox } from '../../adapters/outbox';
import type { BusNode } from '../bus/bus';
import { hubSettings, openStore } from '../hub-settings';
import { opcuaAdapter } from '../opcua-adapter';
import type { OpcuaClientNode } from '../opcua-client/opcua-client';
import { showConnection } from '../opcua-status';
import { outboxOnBus } from '../outbox-on-bus';
import { NodeStatus, shortError } from '../status';

interface LadsInDef extends NodeDef {
  client: string;
  bus: string;
  deviceId: string;
  deviceClass: string;
  /** The device's node id; empty: the LADS device in the DI DeviceSet. */
  deviceNode: string;
  /** A shipped mapping table's id, or the path of a site's own (.json). */
  profile: string;
  /** Seconds between readings of the ResultSets (besides state changes and reconnections). */
  pollInterval: string | number;
  /** Hours: results that stopped longer ago than this when the node starts are left alone. */
  backlogHours: string | number;
}

export const LADS_CONTENT_TYPE = 'application/x-passerelle-lads+json';
const DEVICE_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Result ids already journaled by this channel, read back at start: a restarted hub does not publish them again. */
const REMEMBERED = 10_000;

module.exports = function register(RED: NodeAPI): void {
  function LadsInNode(this: Node, def: LadsInDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(node);
    const settings = hubSettings(RED);
    const deviceId = def.deviceId || '';
    const deviceClass = def.deviceClass || 'analyser';
    const clientNode = RED.nodes.getNode(def.client) as OpcuaClientNode | null;
    const refuse = (reason: string) => {
      status.idle(RED._('passerelle-lads-in.status.not-configured'));
      node.error(RED._('passerelle-lads-in.errors.config', { reason }));
    };
    if (!clientNode) return refuse(RED._('passerelle-lads-in.errors.no-client'));
    // The site flow carries an instrument that stays off until OPCUA_ENDPOINT names one.
    if (!clientNode.endpoint) return status.idle(RED._('passerelle-lads-in.status.no-endpoint'));
    if (!DEVICE_ID.test(deviceId)) return refuse(RED._('passerelle-lads-in.errors.device-id', { value: deviceId }));
    const { getLadsProfile, LadsFollower, mapLadsResult } = opcuaAdapter();
    let profile: LadsProfile;
    try {
      profile = getLadsProfile(def.profile || 'lads-generic');
    } catch (err) {
      return refuse(shortError(err, 300));
    }
    let connection: OpcuaConnection;
    try {
      connection = clientNode.acquire();
    } catch (err) {
      return refuse(shortError(err, 200));
    }

    const channel = `lads:${deviceId}`;
    const store: Store = openStore(RED);
    const outbox = new Outbox(store, channel, (entry) => entry.raw, (err) => node.warn(RED._('passerelle-lads-in.errors.publish', { reason: shortError(err, 200) })));
    const published = outboxOnBus(def.bus ? (RED.nodes.getNode(def.bus) as BusNode | null) : null, node, outbox, (err) =>
      node.error(RED._('passerelle-lads-in.errors.bus', { reason: shortError(err, 200) })),
    );
    const known = new Set(store.listInbound({ channel, status: 'accepted', limit: REMEMBERED }).flatMap((e) => (e.resultId ? [e.resultId] : [])));
    const timeFormat = new Intl.DateTimeFormat('fr-FR', { timeZone: settings.timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit' });
    let state: StateEvent = { state: connection.state };
    let deviceState: string | undefined;
    let lastResultAt: number | undefined;
    let lastError: string | undefined;

    const showStatus = () => {
      if (state.state !== 'connected') return showConnection(RED, status, state);
      if (lastError) return status.failing(lastError);
      const parts = [deviceState, lastResultAt !== undefined ? timeFormat.format(lastResultAt) : undefined].filter(Boolean);
      showConnection(RED, status, state, parts.length > 0 ? parts.join(' · ') : undefined);
    };
    const onState = (event: StateEvent) => {
      state = event;
      showStatus();
    };
    connection.on('state', onState);

    let lastReported: string | undefined;
    /** Said once per problem, not at every poll of a device that stays broken for the night. */
    const reportError = (message: string, payload: Record<string, unknown>) => {
      lastError = shortError(payload.error, 19);
      showStatus();
      if (message === lastReported) return;
      lastReported = message;
      node.error(message, { topic: topicFor({ site: settings.siteId, kind: 'hub', source: deviceId, event: 'error' }), payload: { channel, ...payload } });
    };

    /**
     * Keeps one result for good: the snapshot as read, then each canonical result, in one
     * transaction; resolves once committed (the follower then counts it done). Throws only when
     * the store fails: the follower reads the result again at its next scan.
     */
    const keep = async (snapshot: LadsResultSnapshot): Promise<void> => {
      const raw = Buffer.from(JSON.stringify(snapshot), 'utf8');
      const receivedAt = new Date();
      let mapped: MappedLadsResult | undefined;
      let unreadable: string | undefined;
      try {
        mapped = mapLadsResult(snapshot, profile, { site: settings.siteId, deviceId, deviceClass, receivedAt, timeZone: settings.timeZone, rawSha256: createHash('sha256').update(raw).digest('hex') });
      } catch (err) {
        unreadable = (err as Error).message;
      }
      const peer = snapshot.endpointUrl;
      if (!mapped) {
        const journalId = store.journalInbound({ channel, peer, contentType: LADS_CONTENT_TYPE, raw, status: 'rejected', error: unreadable });
        reportError(RED._('passerelle-lads-in.errors.unreadable', { result: snapshot.result.name, journalId, reason: unreadable ?? "" }), { journalId, error: unreadable });
        return;
      }
      const fresh = mapped.results.filter((r) => !known.has(r.id));
      if (fresh.length === 0 && mapped.results.length > 0) return; // journaled before this hub restarted
      const outputs: Array<{ topic: string; payload: Result; journalId: string; files: LadsResultSnapshot['files'] }> = [];
      let problemId: string | undefined;
      store.transaction(() => {
        const rawId = store.journalInbound({ channel, peer, contentType: LADS_CONTENT_TYPE, raw, status: 'accepted' });
        for (const mappedResult of fresh) {
          let result: Result = { ...mappedResult, raw: { ...mappedResult.raw, journalId: rawId } };
          try {
            result = matchResult(store, result);
          } catch (err) {
            node.warn(RED._('passerelle-lads-in.errors.matching', { reason: shortError(err, 200) }));
          }
          const topic = topicFor({ site: settings.siteId, kind: result.kind, source: deviceId, event: 'result' });
          const journalId = store.journalInbound({ channel, peer, contentType: 'application/json', raw: Buffer.from(JSON.stringify(result), 'utf8'), status: 'accepted', publishTopic: topic, resultId: result.id });
          outputs.push({ topic, payload: result, journalId, files: snapshot.files });
        }
        if (mapped!.warnings.length > 0) {
          problemId = store.journalInbound({ channel, peer, contentType: LADS_CONTENT_TYPE, raw, status: 'rejected', error: mapped!.warnings.join('; ').slice(0, 2000) });
        }
      });
      for (const out of outputs) known.add(out.payload.id);
      if (problemId) {
        reportError(RED._('passerelle-lads-in.errors.mapping', { result: snapshot.result.name, journalId: problemId, count: mapped.warnings.length, reason: mapped.warnings.join('; ') }), {
          journalId: problemId, error: mapped.warnings[0], warnings: mapped.warnings,
        });
      } else if (outputs.length > 0) {
        lastError = undefined;
        lastReported = undefined;
      }
      if (outputs.length > 0) lastResultAt = Date.now();
      showStatus();
      published.drain();
      for (const out of outputs) node.send([{ ...out }, null]);
    };

    const pollSeconds = Number(def.pollInterval);
    const backlogHours = def.backlogHours === '' || def.backlogHours === undefined ? 24 : Number(def.backlogHours);
    const follower = new LadsFollower(connection, {
      ...(def.deviceNode ? { deviceNodeId: def.deviceNode } : {}),
      pollIntervalMs: Number.isFinite(pollSeconds) && pollSeconds > 0 ? pollSeconds * 1000 : 10_000,
      ...(Number.isFinite(backlogHours) && backlogHours >= 0 ? { since: new Date(Date.now() - backlogHours * 3_600_000) } : {}),
    }, (snapshot) => keep(snapshot).catch((err: unknown) => {
      reportError(RED._('passerelle-lads-in.errors.store', { reason: shortError(err, 200) }), { error: shortError(err, 200) });
      throw err;
    }));
    follower.on('state', (change: LadsStateChange) => {
      if (change.scope === 'device') deviceState = change.state;
      showStatus();
      node.send([null, { topic: change.scope === 'device' ? 'device' : `functional-unit/${change.name}`, payload: change }]);
    });
    follower.on('error', (err: Error) => reportError(RED._('passerelle-lads-in.errors.device', { reason: err.message }), { error: err.message }));
    follower.start();
    showStatus();

    // Any message: read the result sets now (after a run the instrument did not signal, say).
    node.on('input', (_msg: NodeMessageInFlow, _send, done) => {
      if (!connection.session()) return done(new Error(RED._('passerelle-lads-in.errors.not-connected', { endpoint: connection.options.endpointUrl })));
      follower.scan().then(() => done(), (err: Error) => done(err));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      connection.off('state', onState);
      const closing = async () => {
        await follower.close();
        await clientNode.release();
        await published.close();
        store.close();
      };
      closing().then(done, (err: unknown) => {
        node.error(shortError(err, 200));
        done();
      });
    });
  }
  RED.nodes.registerType('passerelle-lads-in', LadsInNode);
};
