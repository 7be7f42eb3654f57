/**
 * passerelle-dicom-in: a DICOM Storage SCP for the site's modalities (X-ray, ultrasound, CT...).
 * Each object is streamed to disk as a Part 10 file under <data dir>/dicom/<AE title>/ (fsynced in 'power-loss' durability),
 * its header read; the file (by path) and its imaging event are journaled in one commit before
 * the modality hears Success; the event is then published on
 * passerelle/v1/<site>/imaging/<device>/stored and sent on the first output. Refused objects are
 * kept aside, journaled as rejected and reported (Catch nodes).
 * On the same port: the Modality Worklist (steps from the record's imaging orders, indexed by
 * "HL7 in"), MPPS (exam started / ended → passerelle/v1/<site>/imaging/<device>/procedure), and,
 * when a study is complete, its canonical imaging result for the record (…/result), which the
 * "to the record" node delivers. Procedure events and study results leave on the second output.
 * Also on the port: the storage commitment reports of the PACSs that "to PACS" nodes asked.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { join } from 'node:path';
import * as readiness from '../../adapters/common/readiness';
import {
  answerWorklistQuery, applyCommitmentReport, journalRejected, journalStored, notifyDueStudies, parseStationsByModality, performedStepCreated, performedStepSet, StorageScp,
  type ImagingOrder, type MppsContext, type NaturalDataset, type RejectedObject, type StoredObject,
} from '../../adapters/dicom';
import { AE_TITLE } from '../../adapters/dicom/endpoint';
import type { Store } from '../../adapters/journal';
import { topicFor, topicLevel, type ImagingEvent } from '../../adapters/model';
import { Outbox } from '../../adapters/outbox';
import type { BusNode } from '../bus/bus';
import { hubSettings, openStore } from '../hub-settings';
import { outboxOnBus } from '../outbox-on-bus';
import { NodeStatus, shortError } from '../status';

interface DicomInDef extends NodeDef {
  bus: string;
  aeTitle: string;
  host: string;
  port: string | number;
  /** Calling AE titles let in, separated by commas or spaces; empty: any. */
  callingAeTitles: string;
  tls: string;
  /** The <device> of the topic; empty: the calling AE title. */
  deviceId: string;
  /** Serve the Modality Worklist on this port (absent in older flows: served). */
  worklist?: boolean;
  /** Station AE titles for steps whose order names none: "CT=CT01 CT02; US=ECHO1". */
  stationsByModality?: string;
  /** Serve MPPS on this port (absent in older flows: served). */
  mpps?: boolean;
  /** Tell the record when a study is complete (absent in older flows: not told). */
  notify?: boolean;
  /** Seconds without a new image after which a study without MPPS is complete; 0: MPPS only. */
  quietPeriod?: string | number;
  /** The link to view a study, with {study}, {accession}, {patient}. */
  viewerUrl?: string;
}

interface TlsConfigNode extends Node {
  addTLSOptions(options: Record<string, unknown>): void;
}

const DEVICE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const DEFAULT_QUIET_SECONDS = 600;

/** Node-RED leaves "${VAR}" as written when VAR is not set: for an optional setting, that is no value. */
function unsetVariableAsEmpty(value: string): string {
  const text = value.trim();
  return /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(text) ? '' : text;
}

/** First output: one message per stored object. Second: procedure events and study results. */
export interface DicomInOutput {
  topic: string;
  payload: ImagingEvent;
  journalId: string;
}

module.exports = function register(RED: NodeAPI): void {
  function DicomInNode(this: Node, def: DicomInDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(node);
    const settings = hubSettings(RED);
    const refuse = (reason: string) => {
      status.idle(RED._('passerelle-dicom-in.status.not-configured'));
      node.error(RED._('passerelle-dicom-in.errors.config', { reason }));
    };
    const aeTitle = (def.aeTitle || '').trim();
    if (!AE_TITLE.test(aeTitle)) return refuse(RED._('passerelle-dicom-in.errors.ae-title', { value: aeTitle }));
    const port = Number(def.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return refuse(RED._('passerelle-dicom-in.errors.port', { value: String(def.port ?? '') }));
    const callingAeTitles = (def.callingAeTitles || '').split(/[,\s]+/).filter((t) => t !== '');
    const badCalling = callingAeTitles.find((t) => !AE_TITLE.test(t));
    if (badCalling) return refuse(RED._('passerelle-dicom-in.errors.ae-title', { value: badCalling }));
    const fixedDevice = (def.deviceId || '').trim();
    if (fixedDevice && !DEVICE_ID.test(fixedDevice)) return refuse(RED._('passerelle-dicom-in.errors.device-id', { value: fixedDevice }));
    let stationsByModality: Record<string, string[]>;
    try {
      stationsByModality = parseStationsByModality(def.stationsByModality ?? '');
    } catch (err) {
      return refuse(RED._('passerelle-dicom-in.errors.stations', { reason: (err as Error).message }));
    }
    const quietText = unsetVariableAsEmpty(String(def.quietPeriod ?? ''));
    const quietSeconds = quietText === '' ? DEFAULT_QUIET_SECONDS : Number(quietText);
    if (!Number.isInteger(quietSeconds) || quietSeconds < 0) return refuse(RED._('passerelle-dicom-in.errors.quiet-period', { value: quietText }));
    const viewerUrl = unsetVariableAsEmpty(def.viewerUrl || '');
    if (viewerUrl && !/^https?:\/\/\S+$/.test(viewerUrl)) return refuse(RED._('passerelle-dicom-in.errors.viewer-url', { value: viewerUrl }));
    const notify = def.notify === true;

    const channel = `dicom:${node.id}`;
    const store: Store = openStore(RED);
    const outbox = new Outbox(store, channel, (entry) => entry.raw, (err) => node.warn(RED._('passerelle-dicom-in.errors.publish', { reason: shortError(err, 200) })));
    const errorTopic = topicFor({ site: settings.siteId, kind: 'hub', source: node.id, event: 'error' });
    const timeFormat = new Intl.DateTimeFormat('fr-FR', { timeZone: settings.timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit' });
    let storedCount = 0;
    let examCount = 0;
    let lastStoredAt: number | undefined;
    let lastError: string | undefined;
    let listening = false;

    const showStatus = () => {
      if (!listening) return status.waiting(RED._('passerelle-dicom-in.status.starting'));
      if (lastError) return status.failing(lastError);
      if (lastStoredAt === undefined) return status.working(RED._('passerelle-dicom-in.status.listening', { port }));
      const key = examCount > 0 ? 'passerelle-dicom-in.status.stored-exams' : 'passerelle-dicom-in.status.stored';
      status.working(RED._(key, { count: storedCount, exams: examCount, time: timeFormat.format(lastStoredAt) }));
    };

    /** The file and its event in one commit: after it the modality may hear Success. */
    const onStored = (object: StoredObject) => {
      const { topic, event, journalId } = journalStored(store, object, { channel, site: settings.siteId, timeZone: settings.timeZone, deviceId: fixedDevice || undefined });
      storedCount += 1;
      lastStoredAt = Date.now();
      lastError = undefined;
      if (!object.header.characterSetKnown) node.warn(RED._('passerelle-dicom-in.errors.charset', { journalId, charset: object.header.characterSet ?? '' }));
      showStatus();
      published.drain();
      const output: DicomInOutput = { topic, payload: event, journalId };
      node.send([{ ...output }, null]);
    };

    const journal = { channel, site: settings.siteId, timeZone: settings.timeZone };

    /** Worklist query → the answers (the steps on the worklist, matched as the standard says). */
    const worklist = def.worklist === false ? undefined : (query: NaturalDataset) => {
      const steps = store.imaging().worklist().map((step) => step.details as ImagingOrder);
      return answerWorklistQuery(query, steps, { stationsByModality });
    };

    /** MPPS: the step and its event journaled (one commit) before the modality hears Success. */
    const performed = (handle: (uid: string, dataset: NaturalDataset, context: MppsContext) => ReturnType<typeof performedStepCreated>) =>
      (uid: string, dataset: NaturalDataset, association: { callingAeTitle: string; calledAeTitle: string }) => {
        const outcome = handle(uid, dataset, { ...journal, store, callingAeTitle: association.callingAeTitle, calledAeTitle: association.calledAeTitle, deviceId: fixedDevice || undefined });
        if ('event' in outcome) {
          examCount += outcome.event.event === 'started' ? 1 : 0;
          lastStoredAt ??= Date.now();
          showStatus();
          published.drain();
          node.send([null, { topic: outcome.topic, payload: outcome.event, journalId: outcome.journalId }]);
          if (outcome.event.event !== 'started') notifyRecord();
        } else {
          node.warn(RED._('passerelle-dicom-in.errors.mpps', { calling: association.callingAeTitle, status: outcome.status.toString(16).padStart(4, '0'), reason: outcome.comment }));
        }
        return outcome;
      };
    const mpps = def.mpps === false ? undefined : { create: performed(performedStepCreated), set: performed(performedStepSet) };

    /** Complete studies → imaging results for the record, journaled in the outbox, then published. */
    const notifyRecord = () => {
      if (!notify) return;
      try {
        const due = notifyDueStudies({ ...journal, store, quietMs: quietSeconds === 0 ? Number.MAX_SAFE_INTEGER : quietSeconds * 1000, viewerUrl: viewerUrl || undefined });
        for (const failure of due.failed) node.error(RED._('passerelle-dicom-in.errors.study', failure), { topic: errorTopic, payload: { channel, error: failure.reason, studyInstanceUid: failure.studyInstanceUid } });
        if (due.notified.length === 0) return;
        published.drain();
        for (const notification of due.notified) node.send([null, { topic: notification.topic, payload: notification.result, journalId: notification.journalId }]);
      } catch (err) {
        node.error(RED._('passerelle-dicom-in.errors.notify', { reason: shortError(err, 200) }));
      }
    };
    // Quiet studies are found by a sweep (also after a restart: the state is in the journal).
    const sweep = notify ? setInterval(notifyRecord, Math.min(Math.max(quietSeconds * 250, 1000), 30_000)) : undefined;
    sweep?.unref();

    const onRejected = (object: RejectedObject) => {
      const journalId = journalRejected(store, object, channel);
      lastError = shortError(object.reason, 19);
      showStatus();
      node.error(RED._('passerelle-dicom-in.errors.rejected', { calling: object.callingAeTitle, journalId, reason: object.reason }), {
        topic: errorTopic, payload: { journalId, channel, peer: object.callingAeTitle, error: object.reason, path: object.path },
      });
    };

    const tls: Record<string, unknown> = {};
    const tlsNode = def.tls ? (RED.nodes.getNode(def.tls) as TlsConfigNode | null) : null;
    tlsNode?.addTLSOptions(tls);
    const scp = new StorageScp({
      aeTitle, host: (def.host || '').trim() || '127.0.0.1', port, callingAeTitles,
      tls: tlsNode ? { ...tls, requestCert: tls.ca !== undefined, rejectUnauthorized: tls.ca !== undefined } : undefined,
      dir: join(settings.dataDir, 'dicom', topicLevel(aeTitle)),
      // The files as safe as the journal entries that point at them (PASSERELLE_DURABILITY).
      durability: settings.durability,
      onStored, onRejected, worklist, mpps,
      // Storage commitment reports from the PACSs the site's "to PACS" nodes asked (always served: a report of no
      // transaction of this hub is answered with a failure and changes nothing).
      commitmentReport: (eventTypeId, dataset, association) => applyCommitmentReport(store, eventTypeId, dataset, { channel, peer: association.peer, now: Date.now() }).status,
    });
    scp.on('serviceError', (err: Error) => node.error(RED._('passerelle-dicom-in.errors.service', { reason: shortError(err, 200) })));
    scp.on('association', (a: { accepted: boolean; callingAeTitle: string; peer: string; reason?: string }) => {
      // AE titles and addresses only: nothing about patients.
      if (!a.accepted) node.warn(RED._('passerelle-dicom-in.errors.association', { calling: a.callingAeTitle, peer: a.peer, reason: a.reason ?? '' }));
    });
    scp.on('error', (err: Error) => node.log(RED._('passerelle-dicom-in.log.network', { reason: err.message })));

    readiness.starts(node.id, `${node.type} ${node.id}: DICOM port ${port}`);
    showStatus();
    scp.listen().then(
      () => {
        listening = true;
        readiness.ready(node.id);
        showStatus();
      },
      (err: Error) => {
        readiness.failedToStart(node.id, `${node.type} ${node.id}: port ${port}: ${err.message}`);
        listening = true;
        lastError = shortError(err, 19);
        showStatus();
        node.error(RED._('passerelle-dicom-in.errors.listen', { port, reason: err.message }));
      },
    );

    const published = outboxOnBus(def.bus ? (RED.nodes.getNode(def.bus) as BusNode | null) : null, node, outbox, (err) =>
      node.error(RED._('passerelle-dicom-in.errors.bus', { reason: shortError(err, 200) })),
    );

    node.on('close', (_removed: boolean, done: () => void) => {
      readiness.forget(node.id);
      if (sweep) clearInterval(sweep);
      const closing = async () => {
        await scp.close();
        await published.close();
        store.close();
      };
      closing().then(done, (err: unknown) => {
        node.error(shortError(err, 200));
        done();
      });
    });
  }
  RED.nodes.registerType('passerelle-dicom-in', DicomInNode);
};
