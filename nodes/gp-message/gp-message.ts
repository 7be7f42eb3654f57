/**
 * passerelle-gp-message: canonical results → the reports a GP gets (planReports: per patient
 * and visit, final only, corrections apart) → who the GP is (the directory, the record's
 * messages) → the files in the GP's formats (HPRIM, CDA in IHE XDM, PDF). Output 1: one message
 * per report and GP, for "GP mail out" or "GP folder out". Output 2: what is not sent and why —
 * a patient without a known GP, a preliminary result — never silently dropped.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assignGps, planReports } from '../../adapters/gp';
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
}

/** What output 2 says about a result or report that does not go. */
export interface NotSent {
  kind: 'without-gp' | 'not-sent';
  resultIds: string[];
  documentId?: string;
  reason: string;
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
    const counts = { sent: 0, withoutGp: 0 };
    const showStatus = () => {
      const text = RED._('passerelle-gp-message.status.counts', counts);
      if (counts.withoutGp > 0) status.waiting(text);
      else status.working(text);
    };

    /** Builds every GP's files for these results; sends them on output 1, what does not go on output 2. */
    const handle = async (results: Result[], send: (msgs: Array<Array<Record<string, unknown>> | null>) => void): Promise<void> => {
      const directory = directoryNode ? directoryNode.directory() : undefined;
      const plan = planReports(results, { timeZone: settings.timeZone });
      const { ready, withoutGp } = assignGps(plan.reports, directory);
      const out1: Array<Record<string, unknown>> = [];
      const out2: Array<Record<string, unknown>> = [];
      for (const { report, hprimCode } of ready) {
        const files = await gpFiles(report, sender, { ...(hprimCode ? { recipientCode: hprimCode } : {}) });
        const first = results.find((r) => r.id === report.items[0].resultId)!;
        const topic = topicFor({ site: first.source.site, kind: first.kind, source: first.source.deviceId, event: 'delivery' });
        out1.push({ topic, payload: encodeGpFiles(report, files) });
        for (const o of files.omitted) out2.push({ payload: { kind: 'not-sent', documentId: report.documentId, resultIds: [...new Set(report.items.map((i) => i.resultId))], reason: `${o.format}: ${o.reason}` } satisfies NotSent });
      }
      for (const w of withoutGp) out2.push({ payload: { kind: 'without-gp', documentId: w.documentId, resultIds: w.resultIds, reason: w.reason } satisfies NotSent });
      for (const s of plan.skipped) out2.push({ payload: { kind: 'not-sent', resultIds: [s.resultId], reason: s.reason } satisfies NotSent });
      counts.sent += out1.length;
      counts.withoutGp += withoutGp.length;
      if (withoutGp.length > 0) node.warn(RED._('passerelle-gp-message.errors.without-gp', { count: withoutGp.length }));
      showStatus();
      send([out1.length ? out1 : null, out2.length ? out2 : null]);
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
      await handle(results, (msgs) => node.send(msgs as never));
    }]], {
      subscribed: showStatus,
      failed: (reason) => {
        status.failing(RED._('passerelle-gp-message.status.bus-down'));
        node.error(RED._('passerelle-gp-message.errors.bus', { reason }));
      },
    });
    showStatus();

    node.on('close', (_removed: boolean, done: () => void) => {
      (busConnection?.close() ?? Promise.resolve()).then(done, () => done());
    });
  }
  RED.nodes.registerType('passerelle-gp-message', GpMessageNode);
};
