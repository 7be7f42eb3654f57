/**
 * passerelle-dicom-in: a DICOM Storage SCP for the site's modalities (X-ray, ultrasound, CT...).
 * Each object is streamed to disk as a Part 10 file under <data dir>/dicom/<AE title>/, fsynced,
 * its header read; the file (by path) and its imaging event are journaled in one commit before
 * the modality hears Success; the event is then published on
 * passerelle/v1/<site>/imaging/<device>/stored and sent on the output. Refused objects are kept
 * aside, journaled as rejected and reported (Catch nodes).
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { join } from 'node:path';
import * as readiness from '../../adapters/common/readiness';
import { journalRejected, journalStored, StorageScp, type RejectedObject, type StoredObject } from '../../adapters/dicom';
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
}

interface TlsConfigNode extends Node {
  addTLSOptions(options: Record<string, unknown>): void;
}

const DEVICE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** One output message per stored object. */
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

    const channel = `dicom:${node.id}`;
    const store: Store = openStore(RED);
    const outbox = new Outbox(store, channel, (entry) => entry.raw, (err) => node.warn(RED._('passerelle-dicom-in.errors.publish', { reason: shortError(err, 200) })));
    const errorTopic = topicFor({ site: settings.siteId, kind: 'hub', source: node.id, event: 'error' });
    const timeFormat = new Intl.DateTimeFormat('fr-FR', { timeZone: settings.timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit' });
    let storedCount = 0;
    let lastStoredAt: number | undefined;
    let lastError: string | undefined;
    let listening = false;

    const showStatus = () => {
      if (!listening) return status.waiting(RED._('passerelle-dicom-in.status.starting'));
      if (lastError) return status.failing(lastError);
      if (lastStoredAt === undefined) return status.working(RED._('passerelle-dicom-in.status.listening', { port }));
      status.working(RED._('passerelle-dicom-in.status.stored', { count: storedCount, time: timeFormat.format(lastStoredAt) }));
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
      node.send({ ...output });
    };

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
      onStored, onRejected,
    });
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
