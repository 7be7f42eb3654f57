/**
 * passerelle-photo-in: photos (otoscope, dermatoscope, camera) and PDF reports from telemedicine
 * carts → DICOM objects of the teleconsultation's study, kept as Part 10 files under
 * <data dir>/dicom/<AE title>/carts/, announced like a modality's on
 * passerelle/v1/<site>/imaging/<cart>/stored: the "to PACS" node forwards them, and the study's
 * notification (the DICOM in node's) tells the record. Inputs: MQTT (the companion JSON and the
 * bytes, two messages on .../cart/<cart>/photo), a watched folder (<name>.json + <name>.jpg|.pdf),
 * and the node's input (msg.payload the bytes, msg.photo the companion; an http in, say).
 * Every half is journaled with its raw bytes before it is acknowledged; bad input is journaled as
 * rejected, raised for Catch nodes and said on .../hub/<node>/error; nothing else stops.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findPairs, PhotoIntake, PhotoRefusedError, readPair, settlePair, type IntakeOutcome } from '../../adapters/dicom';
import { AE_TITLE } from '../../adapters/dicom/endpoint';
import type { Store } from '../../adapters/journal';
import { TOPIC_ROOT, topicFor, topicLevel } from '../../adapters/model';
import { Outbox } from '../../adapters/outbox';
import type { BusNode } from '../bus/bus';
import { RefusedInputError, subscribeOnBus } from '../bus-subscriptions';
import { hubSettings, openStore } from '../hub-settings';
import { outboxOnBus } from '../outbox-on-bus';
import { NodeStatus, shortError } from '../status';

interface PhotoInDef extends NodeDef {
  bus: string;
  /** Consume .../cart/+/photo from the bus. */
  mqtt: boolean;
  /** A folder to watch; empty: none. */
  folder: string;
  /** The hub's AE title, source of the files (${DICOM_AET} in the site flow). */
  aeTitle: string;
  /** Dermoscopy as DMS (only where the PACS accepts Dermoscopic Photography) or XC. */
  dermoscopy: 'DMS' | 'XC';
}

const FOLDER_SCAN_MS = 2000;
/** A half waiting this long for the other is reported (once); it stays pending. */
const ORPHAN_AFTER_MS = 10 * 60_000;
const ORPHAN_CHECK_MS = 30_000;

/** Every cart's photo topic of a site. */
export function photoFilter(site: string): string {
  return `${TOPIC_ROOT}/${topicLevel(site)}/cart/+/photo`;
}

/** Node-RED leaves "${VAR}" as written when VAR is not set: for an optional setting, that is no value. */
function unsetVariableAsEmpty(value: string): string {
  const text = value.trim();
  return /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(text) ? '' : text;
}

module.exports = function register(RED: NodeAPI): void {
  function PhotoInNode(this: Node, def: PhotoInDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(node);
    const settings = hubSettings(RED);
    const aeTitle = unsetVariableAsEmpty(def.aeTitle || '') || 'PASSERELLE';
    if (!AE_TITLE.test(aeTitle)) {
      status.idle(RED._('passerelle-photo-in.status.not-configured'));
      node.error(RED._('passerelle-photo-in.errors.ae-title', { value: aeTitle }));
      return;
    }
    const folder = unsetVariableAsEmpty(def.folder || '');
    const channel = `photo:${node.id}`;
    const store: Store = openStore(RED);
    const outbox = new Outbox(store, channel, (entry) => entry.raw, (err) => node.warn(`bus: ${shortError(err, 200)}`));
    const intake = new PhotoIntake({
      store, channel, site: settings.siteId, timeZone: settings.timeZone, aeTitle, dermoscopy: def.dermoscopy === 'DMS' ? 'DMS' : 'XC',
      dir: join(settings.dataDir, 'dicom', topicLevel(aeTitle), 'carts'),
    });
    const errorTopic = topicFor({ site: settings.siteId, kind: 'hub', source: node.id, event: 'error' });
    let storedCount = 0;
    let lastError: string | undefined;

    const showStatus = () => {
      const text = RED._('passerelle-photo-in.status.counts', { stored: storedCount, waiting: intake.waiting });
      if (lastError) status.failing(`${lastError} · ${storedCount}`);
      else if (intake.waiting > 0) status.waiting(text);
      else status.working(text);
    };

    const publish = (topic: string, payload: unknown) => {
      subscriptions?.current()?.publish(topic, JSON.stringify(payload)).catch((err: unknown) => node.warn(`bus: ${shortError(err, 200)}`));
    };

    /** A stored object: published (outbox) and sent on the output. */
    const delivered = (outcome: IntakeOutcome, msg: object = {}) => {
      if ('stored' in outcome) {
        storedCount += 1;
        lastError = undefined;
        published.drain();
        node.send({ ...msg, topic: outcome.stored.topic, payload: outcome.stored.event, journalId: outcome.stored.journalId });
      }
      showStatus();
    };

    /** Bad input: already journaled as rejected; said on the bus, then thrown for the caller to report (no patient data). */
    const refusal = (err: PhotoRefusedError): RefusedInputError => {
      lastError = shortError(err.reason, 19);
      showStatus();
      publish(errorTopic, { journalId: err.journalId, channel: err.peer, error: err.reason, at: new Date().toISOString() });
      return new RefusedInputError(RED._('passerelle-photo-in.errors.invalid', { channel: err.peer, journalId: err.journalId, reason: err.reason }));
    };

    /** A failure that is not the input's (the disk, the journal): the input stays unacknowledged. */
    const failure = (err: unknown) => {
      lastError = shortError(err, 19);
      showStatus();
    };

    const fromBus = async (topic: string, payload: Buffer) => {
      try {
        delivered(await intake.fromMqtt(topic, payload));
      } catch (err) {
        if (err instanceof PhotoRefusedError) {
          const refused = refusal(err);
          node.error(refused.message, { topic: errorTopic, payload: { error: err.reason, journalId: err.journalId } });
          return;
        }
        failure(err);
        throw err;
      }
    };

    let scanning: Promise<void> | undefined;
    // A folder that stays unreadable is reported once, not every scan.
    let folderError: string | undefined;
    const scanFolder = () => {
      if (!folder || scanning) return;
      scanning = (async () => {
        for (const pair of await findPairs(folder)) {
          const { companion, bytes } = await readPair(pair);
          try {
            delivered(await intake.together(companion, bytes, `file:${pair.bytesPath}`));
            await settlePair(folder, pair, 'done');
          } catch (err) {
            if (!(err instanceof PhotoRefusedError)) throw err;
            await settlePair(folder, pair, 'rejected', err.reason);
            const refused = refusal(err);
            node.error(refused.message, { topic: errorTopic, payload: { error: err.reason, journalId: err.journalId } });
          }
        }
        folderError = undefined;
      })().catch((err: unknown) => {
        failure(err);
        const reason = shortError(err, 200);
        if (reason !== folderError) node.error(RED._('passerelle-photo-in.errors.folder', { folder, reason }));
        folderError = reason;
      }).finally(() => { scanning = undefined; });
    };

    node.on('input', (msg: NodeMessageInFlow & { photo?: unknown }, _send, done) => {
      const value = msg.payload;
      const companion = msg.photo;
      if (!Buffer.isBuffer(value) || companion === undefined || companion === null) {
        done(new Error(RED._('passerelle-photo-in.errors.wire')));
        return;
      }
      const companionRaw = Buffer.isBuffer(companion) ? companion : Buffer.from(typeof companion === 'string' ? companion : JSON.stringify(companion), 'utf8');
      intake.together(companionRaw, value, `wire:${node.id}`).then(
        (outcome) => {
          delivered(outcome, msg);
          done();
        },
        (err: unknown) => {
          if (err instanceof PhotoRefusedError) done(refusal(err));
          else {
            failure(err);
            done(err as Error);
          }
        },
      );
    });

    const busNode = def.bus ? (RED.nodes.getNode(def.bus) as BusNode | null) : null;
    const published = outboxOnBus(busNode, node, outbox, (err) => node.error(RED._('passerelle-photo-in.errors.bus', { reason: shortError(err, 200) })));
    const subscriptions = subscribeOnBus(node, def.mqtt === false ? null : busNode, [[photoFilter(settings.siteId), fromBus]], {
      subscribed: showStatus,
      failed: (reason) => {
        status.failing(RED._('passerelle-photo-in.status.bus-down'));
        node.error(RED._('passerelle-photo-in.errors.bus', { reason }));
      },
    });

    // Pairs a previous run journaled but did not finish, then the folder.
    const ready = intake.restore();
    showStatus();
    void (async () => {
      for (const sha of ready) {
        try {
          delivered(await intake.finish(sha));
        } catch (err) {
          if (err instanceof PhotoRefusedError) node.error(refusal(err).message);
          else failure(err);
        }
      }
    })();
    try {
      if (folder) mkdirSync(folder, { recursive: true });
    } catch (err) {
      failure(err);
      node.error(RED._('passerelle-photo-in.errors.folder', { folder, reason: shortError(err, 200) }));
    }
    const folderTimer = folder ? setInterval(scanFolder, FOLDER_SCAN_MS) : undefined;
    folderTimer?.unref();
    // A companion whose bytes never came (or bytes without a companion): said, for a person to look at the journal entry.
    const orphanTimer = setInterval(() => {
      for (const orphan of intake.orphans(ORPHAN_AFTER_MS)) {
        const key = orphan.waiting === 'bytes' ? 'passerelle-photo-in.errors.orphan-bytes' : 'passerelle-photo-in.errors.orphan-companion';
        const text = RED._(key, { peer: orphan.peer, journalId: orphan.journalId, minutes: Math.round(orphan.sinceMs / 60_000) });
        publish(errorTopic, { journalId: orphan.journalId, channel: orphan.peer, error: text, at: new Date().toISOString() });
        node.error(text, { topic: errorTopic, payload: { journalId: orphan.journalId, error: text } });
      }
    }, ORPHAN_CHECK_MS);
    orphanTimer.unref();
    scanFolder();

    node.on('close', (_removed: boolean, done: () => void) => {
      if (folderTimer) clearInterval(folderTimer);
      clearInterval(orphanTimer);
      const closing = async () => {
        await scanning;
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
  RED.nodes.registerType('passerelle-photo-in', PhotoInNode);
};
