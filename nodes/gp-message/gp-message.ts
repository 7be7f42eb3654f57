/**
 * passerelle-gp-message: canonical results → the reports a GP gets (planReports: biology per
 * patient and visit, a teleconsultation's vitals, an imaging study; final only, corrections
 * apart; which of them go is the dialog's rules) → who the GP is (the directory, the record's
 * messages) → the files in the GP's formats (HPRIM, CDA in IHE XDM, PDF). Output 1: one message
 * per report and GP, for "GP mail out" or "GP folder out". Output 2: what is not sent and why —
 * a patient without a known GP, a preliminary result — never silently dropped.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assignGps, DEFAULT_SEND_RULES, GpFormatError, planReports, type SendRules } from '../../adapters/gp';
import { encodeGpFiles, gpFiles, type GpSender } from '../../adapters/gp/mail';
import { parseResult, resultFilter, topicFor, validateResult, type Result } from '../../adapters/model';
import type { BusNode } from '../bus/bus';
import { RefusedInputError, subscribeOnBus } from '../bus-subscriptions';
import type { GpDirectoryNode } from '../gp-directory/gp-directory';
import { hubSettings } from '../hub-settings';
import { NodeStatus, shortError } from '../status';

interface GpMessageDef extends NodeDef {
  directory: string;
  bus: string;
  topic: string;
  organizationId: string;
  organizationName: string;
  responsibleRpps: string;
  responsibleFamily: string;
  responsibleGiven: string;
  hprimCode: string;
  ippRoot: string;
  /** The rules: what goes to the GP. Absent in flows made before them: DEFAULT_SEND_RULES. */
  sendBiology?: boolean;
  sendVitals?: boolean;
  sendImaging?: boolean;
  sendCorrections?: boolean;
}

/** What output 2 says about a result or report that does not go. */
export interface NotSent {
  kind: 'without-gp' | 'not-sent';
  resultIds: string[];
  documentId?: string;
  reason: string;
}

/** How long a result from the bus waits for the next nodes to queue its files before it is left unacknowledged. */
const QUEUED_WITHIN_MS = 60_000;

interface Hooks {
  add(name: string, hook: (event: { msg: { _msgid?: string }; node: { id: string }; error?: unknown }) => void): void;
  remove(name: string): void;
}

const UNSET = /^(\$\{[A-Za-z_][A-Za-z0-9_]*\})?$/;

const PRODUCT = (() => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  return `Passerelle ${pkg.version}`;
})();

module.exports = function register(RED: NodeAPI): void {
  function GpMessageNode(this: Node, def: GpMessageDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(node);
    const settings = hubSettings(RED);
    const directoryNode = def.directory ? (RED.nodes.getNode(def.directory) as GpDirectoryNode | null) : null;
    const sender: GpSender = {
      organization: { id: (def.organizationId || '').trim(), name: (def.organizationName || '').trim() },
      responsible: { id: (def.responsibleRpps || '').trim(), name: { family: (def.responsibleFamily || '').trim(), ...(def.responsibleGiven && !UNSET.test(def.responsibleGiven.trim()) ? { given: [def.responsibleGiven.trim()] } : {}) } },
      hprimCode: (def.hprimCode || '').trim(),
      product: PRODUCT,
      timeZone: settings.timeZone,
      ...(def.ippRoot && !UNSET.test(def.ippRoot.trim()) ? { ippRoot: def.ippRoot.trim() } : {}),
    };
    // Nothing given (the site flow's GP_SENDER_* unset): idle, said by the status alone.
    const given = [def.organizationId, def.organizationName, def.responsibleRpps, def.responsibleFamily, def.hprimCode].map((v) => (v || '').trim()).filter((v) => !UNSET.test(v));
    if (given.length === 0) return status.idle(RED._('passerelle-gp-message.status.not-configured'));
    if (!sender.organization.id || !sender.organization.name || !/^\d{11}$/.test(sender.responsible.id ?? '') || !sender.responsible.name?.family || !sender.hprimCode) {
      status.idle(RED._('passerelle-gp-message.status.not-configured'));
      node.error(RED._('passerelle-gp-message.errors.sender'));
      return;
    }
    const rules: SendRules = {
      biology: def.sendBiology ?? DEFAULT_SEND_RULES.biology,
      vitals: def.sendVitals ?? DEFAULT_SEND_RULES.vitals,
      imaging: def.sendImaging ?? DEFAULT_SEND_RULES.imaging,
      corrections: def.sendCorrections ?? DEFAULT_SEND_RULES.corrections,
    };
    if (!rules.biology && !rules.vitals && !rules.imaging) {
      status.idle(RED._('passerelle-gp-message.status.nothing-sent'));
      node.error(RED._('passerelle-gp-message.errors.no-kind-runtime'));
      return;
    }
    const counts = { sent: 0, withoutGp: 0 };
    // A result from the bus is acknowledged only once every node wired to output 1 has said done()
    // for its files (the GP out nodes say it once the mail or drop is in their queue on disk).
    const targets: string[] = ((def as unknown as { wires?: string[][] }).wires?.[0] ?? []).filter((id) => !!id);
    const awaited = new Map<string, { left: Set<string>; settle: (error?: unknown) => void }>();
    // Node-RED ≥ 1.3 gives nodes its hooks; node-red-node-test-helper's RED has none: nothing to wait for there.
    const hooks = (RED as unknown as { hooks?: Hooks }).hooks;
    const hookName = `onComplete.passerelle-gp-message-${node.id}`;
    hooks?.add(hookName, (event) => {
      const entry = event.msg?._msgid ? awaited.get(event.msg._msgid) : undefined;
      if (!entry || !entry.left.has(event.node.id)) return;
      if (event.error) return entry.settle(event.error);
      entry.left.delete(event.node.id);
      if (entry.left.size === 0) entry.settle();
    });
    const queuedDownstream = (msgs: Array<Record<string, unknown>>): Promise<void> => Promise.all(msgs.map((msg) => new Promise<void>((resolve, reject) => {
      const id = randomUUID();
      msg._msgid = id;
      const timer = setTimeout(() => settle(new Error(RED._('passerelle-gp-message.errors.not-queued', { seconds: QUEUED_WITHIN_MS / 1000 }))), QUEUED_WITHIN_MS);
      const settle = (error?: unknown) => {
        clearTimeout(timer);
        awaited.delete(id);
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else resolve();
      };
      if (targets.length === 0 || !hooks) return settle();
      awaited.set(id, { left: new Set(targets), settle });
    }))).then(() => undefined);
    const showStatus = () => {
      const text = RED._('passerelle-gp-message.status.counts', counts);
      if (counts.withoutGp > 0) status.waiting(text);
      else status.working(text);
    };

    /** Builds every GP's files for these results; sends them on output 1, what does not go on output 2. */
    const handle = async (results: Result[], send: (msgs: Array<Array<Record<string, unknown>> | null>) => void, waitQueued = false): Promise<void> => {
      const directory = directoryNode ? directoryNode.directory() : undefined;
      const plan = planReports(results, { timeZone: settings.timeZone, rules });
      const { ready, withoutGp } = assignGps(plan.reports, directory);
      const out1: Array<Record<string, unknown>> = [];
      const out2: Array<Record<string, unknown>> = [];
      for (const { report, hprimCode } of ready) {
        const resultIds = [...new Set(report.items.map((i) => i.resultId))];
        let files: Awaited<ReturnType<typeof gpFiles>>;
        try {
          files = await gpFiles(report, sender, { ...(hprimCode ? { recipientCode: hprimCode } : {}) });
        } catch (err) {
          // No format of this GP can carry it (a teleconsultation summary to a CDA-only GP): listed.
          if (!(err instanceof GpFormatError)) throw err;
          out2.push({ payload: { kind: 'not-sent', documentId: report.documentId, resultIds, reason: err.message } satisfies NotSent });
          continue;
        }
        const first = results.find((r) => r.id === report.items[0].resultId)!;
        const topic = topicFor({ site: first.source.site, kind: first.kind, source: first.source.deviceId, event: 'delivery' });
        out1.push({ topic, payload: encodeGpFiles(report, files) });
        for (const o of files.omitted) out2.push({ payload: { kind: 'not-sent', documentId: report.documentId, resultIds, reason: `${o.format}: ${o.reason}` } satisfies NotSent });
      }
      for (const w of withoutGp) out2.push({ payload: { kind: 'without-gp', documentId: w.documentId, resultIds: w.resultIds, reason: w.reason } satisfies NotSent });
      for (const s of plan.skipped) out2.push({ payload: { kind: 'not-sent', resultIds: [s.resultId], reason: s.reason } satisfies NotSent });
      counts.sent += out1.length;
      counts.withoutGp += withoutGp.length;
      if (withoutGp.length > 0) node.warn(RED._('passerelle-gp-message.errors.without-gp', { count: withoutGp.length }));
      showStatus();
      const queued = waitQueued ? queuedDownstream(out1) : Promise.resolve();
      send([out1.length ? out1 : null, out2.length ? out2 : null]);
      await queued;
    };

    const resultsOf = (value: unknown): Result[] => {
      const list = Array.isArray(value) ? value : [value];
      return list.map((v) => (Buffer.isBuffer(v) || typeof v === 'string' ? parseResult(v) : validateResult(v)));
    };

    node.on('input', (msg: NodeMessageInFlow, send, done) => {
      let results: Result[];
      try {
        results = resultsOf(msg.payload);
      } catch (err) {
        done(new Error(RED._('passerelle-gp-message.errors.invalid', { reason: (err as Error).message })));
        return;
      }
      handle(results, (msgs) => send(msgs as never)).then(() => done(), (err: unknown) => {
        status.failing(shortError(err, 18));
        done(err as Error);
      });
    });

    const busNode = def.bus ? (RED.nodes.getNode(def.bus) as BusNode | null) : null;
    const busConnection = subscribeOnBus(node, busNode, [[def.topic || resultFilter(settings.siteId), async (topic, payload) => {
      let results: Result[];
      try {
        results = [parseResult(payload)];
      } catch (err) {
        // Not a result: acknowledged (a redelivery will not make it one) and said.
        node.error(new RefusedInputError(RED._('passerelle-gp-message.errors.invalid', { reason: (err as Error).message })).message, { topic });
        return;
      }
      // Not acknowledged to the broker before the files are in the next nodes' queues: a crash
      // in between gets the result again, and the queues drop the repeat (same document id).
      await handle(results, (msgs) => node.send(msgs as never), true);
    }]], {
      subscribed: showStatus,
      failed: (reason) => {
        status.failing(RED._('passerelle-gp-message.status.bus-down'));
        node.error(RED._('passerelle-gp-message.errors.bus', { reason }));
      },
    });
    showStatus();

    node.on('close', (_removed: boolean, done: () => void) => {
      hooks?.remove(hookName);
      for (const entry of awaited.values()) entry.settle(new Error('closed'));
      (busConnection?.close() ?? Promise.resolve()).then(done, () => done());
    });
  }
  RED.nodes.registerType('passerelle-gp-message', GpMessageNode);
};
