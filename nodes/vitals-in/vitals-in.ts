/**
 * passerelle-vitals-in: vitals from telemedicine carts and device gateways → canonical vitals on
 * the bus. It consumes, durably, the site's cart topics (passerelle.vitals/1 on
 * .../cart/<cart>/vitals, FHIR R4 on .../cart/<cart>/fhir), BLE gateways' raw characteristic
 * bytes (.../ble/<gateway>/reading) and PCD-01 ORUs the MLLP input received (.../hl7/+/message);
 * its input takes the same payloads from a wire (an http-in for FHIR, say). Each input's bytes
 * are journaled, then its result, which the outbox publishes on .../vitals/<cart>/result.
 * What cannot be read is journaled as rejected, said on .../hub/<node>/error, and nothing else stops.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { createHash } from 'node:crypto';
import { decodeMessage, Hl7Message, Hl7ParseError, isPcd01, readPcd01 } from '../../adapters/hl7';
import type { Store } from '../../adapters/journal';
import { parseTopic, topicFor, type Result } from '../../adapters/model';
import { Outbox } from '../../adapters/outbox';
import { bleToResult, cartToResult, fhirToResult, InvalidVitalsError, parseBleReading, parseCartVitals, pcd01ToResult } from '../../adapters/vitals';
import type { BusNode } from '../bus/bus';
import { journalingHandler, RefusedInputError, subscribeOnBus } from '../bus-subscriptions';
import { hubSettings, openStore } from '../hub-settings';
import { outboxOnBus } from '../outbox-on-bus';
import { NodeStatus, shortError } from '../status';

interface VitalsInDef extends NodeDef {
  bus: string;
  /** Which inputs to consume from the bus. */
  cart: boolean;
  fhir: boolean;
  ble: boolean;
  pcd01: boolean;
  /** The <source> of results that arrive on the input without a topic naming their cart. */
  deviceId: string;
}

export type VitalsInputKind = 'cart' | 'fhir' | 'ble' | 'pcd01';

/** The topic filters of each input on a site's bus. */
export function vitalsFilters(site: string): Record<VitalsInputKind, string> {
  const root = `passerelle/v1/${site}`;
  return { cart: `${root}/cart/+/vitals`, fhir: `${root}/cart/+/fhir`, ble: `${root}/ble/+/reading`, pcd01: `${root}/hl7/+/message` };
}

/** What a topic carries, and the cart or gateway it names. */
function classify(topic: string | undefined): { kind: VitalsInputKind; source: string } | undefined {
  const parts = topic ? parseTopic(topic) : undefined;
  if (!parts) return undefined;
  if (parts.kind === 'cart' && parts.event === 'vitals') return { kind: 'cart', source: parts.source };
  if (parts.kind === 'cart' && parts.event === 'fhir') return { kind: 'fhir', source: parts.source };
  if (parts.kind === 'ble' && parts.event === 'reading') return { kind: 'ble', source: parts.source };
  if (parts.kind === 'hl7' && parts.event === 'message') return { kind: 'pcd01', source: parts.source };
  return undefined;
}

/** A wire's payload: FHIR has a resourceType, ours a schema, HL7 starts with MSH. */
function sniff(value: unknown): VitalsInputKind | undefined {
  const text = Buffer.isBuffer(value) ? value.toString('utf8') : typeof value === 'string' ? value : undefined;
  if (text?.trimStart().startsWith('MSH')) return 'pcd01';
  let object = value;
  if (text !== undefined) {
    try { object = JSON.parse(text); } catch { return undefined; }
  }
  if (typeof object !== 'object' || object === null) return undefined;
  const o = object as Record<string, unknown>;
  if (typeof o.resourceType === 'string') return 'fhir';
  if (o.schema === 'passerelle.vitals/1') return 'cart';
  if (o.schema === 'passerelle.ble/1') return 'ble';
  if (o.schema === 'passerelle.hl7/1') return 'pcd01';
  return undefined;
}

const CONTENT_TYPES: Record<VitalsInputKind, string> = {
  cart: 'application/json', fhir: 'application/fhir+json', ble: 'application/json', pcd01: 'application/json',
};

module.exports = function register(RED: NodeAPI): void {
  function VitalsInNode(this: Node, def: VitalsInDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(node);
    const settings = hubSettings(RED);
    const channel = `vitals:${node.id}`;
    const wireSource = def.deviceId || 'cart';
    const store: Store = openStore(RED);
    const outbox = new Outbox(store, channel, (entry) => entry.raw, (err) => node.warn(`bus: ${shortError(err, 200)}`));
    let received = 0;
    let flagged = 0;
    let lastError: string | undefined;

    const showStatus = () => {
      const text = RED._('passerelle-vitals-in.status.counts', { received, flagged });
      if (lastError) status.waiting(`${text} · ${lastError}`);
      else status.working(text);
    };

    const publish = (topic: string, payload: unknown) => {
      subscriptions?.current()?.publish(topic, JSON.stringify(payload)).catch((err: unknown) => node.warn(`bus: ${shortError(err, 200)}`));
    };

    /** Keeps refused bytes in the journal, says so on the bus, and throws a clear error (no patient data in it). */
    const refuse = (raw: Buffer, from: string, kind: VitalsInputKind, reason: string): never => {
      const journalId = store.journalInbound({ channel: from, contentType: CONTENT_TYPES[kind], raw, status: 'rejected', error: reason });
      lastError = shortError(reason, 24);
      showStatus();
      publish(topicFor({ site: settings.siteId, kind: 'hub', source: node.id, event: 'error' }), { journalId, channel: from, error: reason, at: new Date().toISOString() });
      throw new RefusedInputError(RED._('passerelle-vitals-in.errors.invalid', { channel: from, journalId, reason }));
    };

    const convert = (raw: Buffer, kind: VitalsInputKind, source: string): { result: Result; qc: boolean } | undefined => {
      const receivedAt = new Date();
      const rawSha256 = createHash('sha256').update(raw).digest('hex');
      const context = { site: settings.siteId, deviceId: source, receivedAt, rawSha256 };
      switch (kind) {
        case 'cart':
          return { result: cartToResult(parseCartVitals(raw, { cartId: source === wireSource ? undefined : source }), context), qc: false };
        case 'fhir':
          return { result: fhirToResult(raw, context), qc: false };
        case 'ble': {
          const { reading, bytes } = parseBleReading(raw);
          return bleToResult(reading, bytes, { ...context, timeZone: settings.timeZone });
        }
        case 'pcd01': {
          const text = raw.toString('utf8').trimStart().startsWith('MSH') ? decodeMessage(raw).text : (JSON.parse(raw.toString('utf8')) as { text: string }).text;
          const message = Hl7Message.parse(text);
          if (!isPcd01(message)) return undefined; // orders, admissions: not ours
          return { result: pcd01ToResult(readPcd01(message), { ...context, timeZone: settings.timeZone }), qc: false };
        }
      }
    };

    /**
     * Journals the input and its result in one commit, for the outbox to publish, and gives the
     * output message (undefined for HL7 that is not PCD-01). Throws (after journaling) what cannot be read.
     */
    const accept = (raw: Buffer, from: string, kind: VitalsInputKind, source: string): { topic: string; payload: Result } | undefined => {
      let converted: { result: Result; qc: boolean } | undefined;
      try {
        converted = convert(raw, kind, source);
      } catch (err) {
        if (err instanceof InvalidVitalsError || err instanceof SyntaxError || err instanceof Hl7ParseError) refuse(raw, from, kind, (err as Error).message);
        throw err;
        throw err;
      }
      if (!converted) return undefined;
      const { result, qc } = converted;
      const topic = topicFor({ site: settings.siteId, kind: 'vitals', source: result.source.deviceId, event: qc ? 'qc' : 'result' });
      const kept = store.transaction(() => {
        const rawId = store.journalInbound({ channel: from, contentType: CONTENT_TYPES[kind], raw, status: 'accepted', resultId: result.id });
        const withRaw: Result = { ...result, raw: { ...result.raw, journalId: rawId } };
        store.journalInbound({ channel, contentType: 'application/json', raw: Buffer.from(JSON.stringify(withRaw), 'utf8'), status: 'accepted', publishTopic: topic, resultId: result.id });
        return withRaw;
      });
      received += 1;
      const warnings = result.observations.filter((o) => o.warnings?.length).length;
      flagged += warnings;
      lastError = undefined;
      showStatus();
      published.drain();
      return { topic, payload: kept };
    };

    const fromBus = (kind: VitalsInputKind) => journalingHandler(node, (payload, from) => {
      const topic = from.replace(/^mqtt:/, '');
      const out = accept(payload, from, kind, classify(topic)?.source ?? wireSource);
      if (out) node.send(out);
    });

    // The message goes on with its other properties: an http in's msg.res reaches the http response.
    node.on('input', (msg: NodeMessageInFlow, send, done) => {
      const value = msg.payload;
      const raw = Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value ?? null), 'utf8');
      const byTopic = classify(typeof msg.topic === 'string' ? msg.topic : undefined);
      const kind = byTopic?.kind ?? sniff(value);
      try {
        if (!kind) refuse(raw, `wire:${node.id}`, 'cart', RED._('passerelle-vitals-in.errors.unknown-payload'));
        const out = accept(raw, `wire:${node.id}`, kind!, byTopic?.source ?? wireSource);
        if (out) send({ ...msg, ...out });
        done();
      } catch (err) {
        done(err as Error);
      }
    });

    const filters = vitalsFilters(settings.siteId);
    const enabled = (['cart', 'fhir', 'ble', 'pcd01'] as const).filter((k) => def[k] !== false);
    const busNode = def.bus ? (RED.nodes.getNode(def.bus) as BusNode | null) : null;
    const published = outboxOnBus(busNode, node, outbox, (err) => node.error(RED._('passerelle-vitals-in.errors.bus', { reason: shortError(err, 200) })));
    const subscriptions = subscribeOnBus(node, busNode, enabled.map((k) => [filters[k], fromBus(k)]), {
      subscribed: showStatus,
      failed: (reason) => {
        status.failing(RED._('passerelle-vitals-in.status.bus-down'));
        node.error(RED._('passerelle-vitals-in.errors.bus', { reason }));
      },
    });
    if (!busNode) status.idle(RED._('passerelle-vitals-in.status.no-bus'));

    node.on('close', (_removed: boolean, done: () => void) => {
      const closing = async () => {
        await subscriptions?.close();
        await published.close();
        store.close();
      };
      closing().then(done, (err: unknown) => {
        node.error(shortError(err, 200));
        done();
      });
    });
  }
  RED.nodes.registerType('passerelle-vitals-in', VitalsInNode);
};
