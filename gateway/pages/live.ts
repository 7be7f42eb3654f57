/**
 * What tells the open pages that something changed: the delivery events the destination nodes
 * publish on the bus (held, sent, accepted, rejected, retrying, unreachable, dead), each after
 * its change is committed to the store. The pages then read the store again through the API:
 * the bus says "look again", the store says what is true. See docs/pages.md.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { TOPIC_ROOT, topicLevel } from '../../adapters/model/topics';

/** Changes gathered for this long go out as one event: a burst of 1,000 results is a few refreshes, not 3,000. */
const COALESCE_MS = 250;
/** A comment line this often keeps proxies and idle time-outs from closing the stream. */
const HEARTBEAT_MS = 20_000;
/** At most this many result ids per event; beyond, the pages simply read everything again. */
const MAX_IDS = 200;

export interface Change {
  /** Ids of the results whose delivery state changed (absent when too many to list). */
  results?: string[];
  /** The feed may have missed events (bus reconnected): read everything again. */
  resync?: boolean;
}

/** 'change' with a Change; 'status' with {live} when the feed's bus subscription comes or goes. */
export type FeedListener = (event: 'change' | 'status', data: Change | { live: boolean }) => void;

export interface LiveFeed {
  /** True while the feed's bus subscription is in place. */
  readonly connected: boolean;
  on(listener: FeedListener): () => void;
  /** A change the hub itself made (a patient assigned through the API). */
  notify(resultId: string): void;
  stop(): Promise<void>;
}

export interface LiveFeedOptions {
  bus: { url: string; username?: string; password?: string };
  siteId: string;
  log: (line: string) => void;
}

/**
 * A clean MQTT session at QoS 0, unlike the durable BusClient: these are notifications for
 * whoever watches now; nothing is worth keeping for a page that is not open.
 */
export function startLiveFeed(options: LiveFeedOptions): LiveFeed {
  const filter = `${TOPIC_ROOT}/${topicLevel(options.siteId)}/+/+/delivery`;
  const listeners = new Set<FeedListener>();
  let pending: Set<string> | undefined;
  let overflow = false;
  let timer: NodeJS.Timeout | undefined;
  let connected = false;
  let connectedOnce = false;
  let reportedDown = false;

  const emit: FeedListener = (event, data) => {
    for (const listener of listeners) listener(event, data);
  };
  const flush = () => {
    timer = undefined;
    const ids = pending ? [...pending] : [];
    pending = undefined;
    emit('change', overflow ? { resync: true } : { results: ids });
    overflow = false;
  };
  const changed = (resultId: string | undefined) => {
    pending ??= new Set();
    if (resultId === undefined || pending.size >= MAX_IDS) overflow = true;
    else pending.add(resultId);
    timer ??= setTimeout(flush, COALESCE_MS);
  };

  const client: MqttClient = mqtt.connect(options.bus.url, {
    clean: true,
    clientId: `passerelle-pages-${topicLevel(options.siteId)}-${randomBytes(4).toString('hex')}`,
    username: options.bus.username,
    password: options.bus.password,
    reconnectPeriod: 1000,
  });
  client.on('connect', () => {
    client.subscribe(filter, { qos: 0 }, (err) => {
      if (err) return options.log(`pages: bus subscription: ${err.message}`);
      connected = true;
      reportedDown = false;
      emit('status', { live: true });
      // Events published while the subscription was down are lost: the pages read everything again.
      if (connectedOnce) emit('change', { resync: true });
      connectedOnce = true;
    });
  });
  client.on('close', () => {
    if (connected) emit('status', { live: false });
    connected = false;
  });
  client.on('error', (err) => {
    if (reportedDown) return;
    reportedDown = true;
    options.log(`pages: bus: ${err.message}; the pages refresh on reload until it is back`);
  });
  client.on('message', (_topic, payload) => {
    let resultId: string | undefined;
    try {
      const event = JSON.parse(payload.toString('utf8')) as { resultId?: unknown };
      if (typeof event.resultId === 'string') resultId = event.resultId;
    } catch {
      // Not ours to judge: an unreadable event still means something changed.
    }
    changed(resultId);
  });

  return {
    get connected() { return connected; },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    notify: (resultId) => changed(resultId),
    async stop() {
      clearTimeout(timer);
      listeners.clear();
      await client.endAsync(true);
    },
  };
}

function send(res: Response, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * GET /passerelle/api/events: server-sent events. 'ready' ({live}) once, then 'change'
 * ({results: [ids]} or {resync: true}) and 'status' ({live}). Only result ids travel here, never
 * patient data.
 */
export function streamChanges(feed: LiveFeed | undefined, req: Request, res: Response): void {
  res.status(200).set({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  send(res, 'ready', { live: feed?.connected ?? false });
  const off = feed?.on((event, data) => send(res, event, data));
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  req.on('close', () => {
    clearInterval(heartbeat);
    off?.();
  });
}
