/**
 * The hub process, put together: the durable store, the MQTT bus (embedded broker unless
 * MQTT_URL names one), the Node-RED runtime with the Passerelle nodes and the site flow, and
 * the hub API, on one HTTP(S) server. This is the only file that knows how they fit.
 */
import express from 'express';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, lstatSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { BusClient, keepBusConnected, startBroker, type RunningBroker } from '../adapters/bus';
import { Outbox } from '../adapters/outbox';
import { Store } from '../adapters/journal';
import type { HubConfig } from './config';
import { nodeRedSettings, type PasserelleSettings } from './settings';
import { API_OUTBOX_CHANNEL, hubApi, type HubState } from './api';
import { startRetention } from './retention';
import { hubPages } from './pages';
import { flowDestinations } from './pages/destinations';
import { startLiveFeed } from './pages/live';

// Node-RED is a process-wide singleton: one hub per process.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RED = require('node-red');

const PACKAGE_ROOT = resolve(__dirname, '..', '..');
const PACKAGE_NAME: string = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).name;

export interface RunningHub {
  url: string;
  busUrl: string;
  broker?: RunningBroker;
  stop(): Promise<void>;
}

/** Node-RED finds our nodes as an installed module: link the package into its userDir. */
function installNodesInto(userDir: string): void {
  const link = join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'));
  mkdirSync(resolve(link, '..'), { recursive: true });
  try {
    lstatSync(link);
  } catch {
    symlinkSync(PACKAGE_ROOT, link, 'dir');
  }
}

/** First start: the site flow from flows/ becomes the flow the technician then edits. */
function seedFlows(userDir: string, flowFile: string): void {
  const target = join(userDir, 'flows.json');
  if (!existsSync(target)) copyFileSync(flowFile, target);
}

/** The nodes of the site flow take endpoints from ${VAR}s: give them the defaults too. */
function exportFlowEnvironment(config: HubConfig): void {
  process.env.HOST = config.host;
  process.env.SITE_ID = config.siteId;
  process.env.SITE_TZ = config.timeZone;
  process.env.MLLP_IN_PORT = String(config.mllpInPort);
  process.env.ASTM_TCP_PORT = String(config.astm.tcpPort);
  process.env.ASTM_SERIAL_PATH = config.astm.serialPath ?? '';
  process.env.ASTM_SERIAL_BAUD = String(config.astm.serialBaud);
  process.env.ASTM_PROFILE = config.astm.profile;
  process.env.POCT1A_PORT = String(config.poct1aPort);
  if (config.ehrMllp) process.env.EHR_MLLP = `${config.ehrMllp.host}:${config.ehrMllp.port}`;
  process.env.EHR_VITALS_FORMAT = config.ehrVitalsFormat;
  // Empty INFLUX_URL: the site flow's "to InfluxDB" node stays idle, grey "not configured".
  process.env.INFLUX_URL = config.influx.url ?? '';
  process.env.INFLUX_DB = config.influx.database;
  process.env.INFLUX_RETENTION = config.influx.retention;
  process.env.DICOM_PORT = String(config.dicom.port);
  process.env.DICOM_AET = config.dicom.aeTitle;
  // Empty PACS_DICOM: the site flow's "to PACS" node stays idle, grey "not configured".
  process.env.PACS_DICOM = config.dicom.pacs ? `${config.dicom.pacs.aeTitle}@${config.dicom.pacs.host}:${config.dicom.pacs.port}` : '';
  // The site flow's "to PACS" reads it from a text field (Node-RED substitutes variables in text only).
  process.env.PACS_COMMITMENT = String(config.dicom.commitment);
  process.env.IMAGING_VIEWER_URL = config.dicom.viewerUrl ?? '';
  process.env.IMAGING_QUIET_SECONDS = String(config.dicom.quietSeconds);
  process.env.PHOTO_FOLDER = config.photoFolder ?? '';
  // Empty OPCUA_ENDPOINT: the site flow's OPC UA nodes stay off, grey "no endpoint".
  process.env.OPCUA_ENDPOINT = config.opcua.endpoint ?? '';
  process.env.OPCUA_SECURITY_MODE = config.opcua.securityMode;
  process.env.LADS_PROFILE = config.opcua.ladsProfile;
  // Results to the GP: empty GP_SMTP / GP_DROP_DIR / GP_SENDER_*: the site flow's GP nodes stay idle, grey "not configured".
  const gp = config.gp;
  process.env.GP_SMTP = gp.smtp ? `${gp.smtp.host.includes(':') ? `[${gp.smtp.host}]` : gp.smtp.host}:${gp.smtp.port}` : '';
  process.env.GP_SMTP_FROM = gp.from ?? '';
  process.env.GP_SMTP_CA = gp.caFile ?? '';
  process.env.GP_SMTP_CERT = gp.certFile ?? '';
  process.env.GP_SMTP_KEY = gp.keyFile ?? '';
  process.env.GP_MSS_NIL = gp.nil ?? '';
  process.env.GP_DIRECTORY = gp.directory ?? '';
  process.env.GP_DROP_DIR = gp.dropDir ?? '';
  process.env.GP_SENDER_FINESS = gp.sender?.finess ?? '';
  process.env.GP_SENDER_NAME = gp.sender?.name ?? '';
  process.env.GP_SENDER_RPPS = gp.sender?.rpps ?? '';
  process.env.GP_SENDER_FAMILY = gp.sender?.family ?? '';
  process.env.GP_SENDER_GIVEN = gp.sender?.given ?? '';
  process.env.GP_HPRIM_CODE = gp.sender?.hprimCode ?? '';
  // Read by those nodes when their credentials are "the hub's" (Node-RED substitutes no variable in credentials).
  if (config.influx.credentials) {
    process.env.INFLUX_USERNAME = config.influx.credentials.username;
    process.env.INFLUX_PASSWORD = config.influx.credentials.password;
  }
}

function localUrl(scheme: string, host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `${scheme}://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/**
 * The API's own bus client, on the hub's bus with the hub's credentials: it publishes what the
 * API journaled in its outbox (results assigned a patient), at once, after a reconnect, and at
 * start for what a crash left unpublished.
 */
function startApiPublisher(store: Store, bus: PasserelleSettings['bus'], siteId: string, log: (line: string) => void) {
  const outbox = new Outbox(store, API_OUTBOX_CHANNEL, (entry) => entry.raw, (err) => log(`hub API: bus: ${err.message}`));
  const connection = keepBusConnected(
    () => BusClient.connect({ url: bus.url, username: bus.username, password: bus.password, clientId: `passerelle-hub-api-${siteId}` }),
    async (client) => {
      client.on('error', (err: Error) => log(`hub API: bus: ${err.message}`));
      client.on('connect', () => void outbox.drain(client));
      void outbox.drain(client);
    },
    (err) => log(`hub API: bus: ${(err as Error).message}; trying again`),
  );
  return {
    kick: () => {
      const client = connection.current();
      if (client) void outbox.drain(client);
    },
    stop: () => connection.close(),
  };
}

export async function startHub(config: HubConfig, log: (line: string) => void = console.log): Promise<RunningHub> {
  const userDir = join(config.dataDir, 'node-red');
  mkdirSync(userDir, { recursive: true });
  const store = Store.open({ dir: join(config.dataDir, 'journal'), durability: config.durability });
  const tlsFiles = config.tls ? { key: readFileSync(config.tls.keyFile), cert: readFileSync(config.tls.certFile) } : undefined;

  let broker: RunningBroker | undefined;
  if (!config.mqttUrl) {
    broker = await startBroker({
      host: config.host,
      port: config.mqttPort,
      dataDir: join(config.dataDir, 'broker'),
      credentials: config.mqttCredentials,
      tls: tlsFiles && config.mqttTlsPort !== undefined ? { port: config.mqttTlsPort, ...tlsFiles } : undefined,
    });
  }
  const busUrl = config.mqttUrl ?? localUrl('mqtt', config.host, broker!.port);

  installNodesInto(userDir);
  seedFlows(userDir, config.flowFile);
  exportFlowEnvironment(config);

  const passerelle: PasserelleSettings = {
    dataDir: config.dataDir,
    siteId: config.siteId,
    timeZone: config.timeZone,
    durability: config.durability,
    bus: { url: busUrl, ...config.mqttCredentials },
  };
  const app = express();
  const server = tlsFiles ? https.createServer(tlsFiles, app) : http.createServer(app);
  const state: HubState = { flowsRunning: false, startedAt: new Date().toISOString(), config, broker, store };
  const onFlowsStarted = () => { state.flowsRunning = true; };
  const onFlowsStopped = () => { state.flowsRunning = false; };
  RED.events.on('flows:started', onFlowsStarted);
  RED.events.on('flows:stopped', onFlowsStopped);

  RED.init(server, nodeRedSettings(config, passerelle));
  // On the admin app, so the API shares the editor's login and tokens.
  RED.httpAdmin.use('/passerelle/api', hubApi(state, RED.auth.needsPermission));
  // The pages themselves hold no data: they sign in and read the API above.
  RED.httpAdmin.use('/passerelle', hubPages({ siteId: config.siteId, timeZone: config.timeZone }));
  state.destinations = () => flowDestinations((visit) => RED.nodes.eachNode(visit));
  app.use('/', RED.httpAdmin);
  app.use('/flows-http', RED.httpNode);

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  await RED.start();
  const retention = startRetention(store, config.retention);
  const apiPublisher = startApiPublisher(store, passerelle.bus, config.siteId, log);
  state.republish = apiPublisher.kick;
  state.live = startLiveFeed({ bus: passerelle.bus, siteId: config.siteId, log });
  const url = localUrl(tlsFiles ? 'https' : 'http', config.host, port);

  log(`Passerelle hub for site ${config.siteId}: editor and API on ${url}, bus ${broker ? `embedded on port ${broker.port}` : 'external'}, data in ${config.dataDir}`);
  if (config.demo) log('DEMO MODE: bound to loopback with no credentials, so the editor, the API and the broker are open. Set PASSERELLE_ADMIN_USER/PASSERELLE_ADMIN_PASSWORD and MQTT_USERNAME/MQTT_PASSWORD before any real use.');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      retention.stop();
      server.close();
      server.closeAllConnections?.();
      await apiPublisher.stop();
      await state.live?.stop();
      await RED.stop(); // nodes close: listeners stop accepting, queues flush in-flight messages
      RED.events.off('flows:started', onFlowsStarted);
      RED.events.off('flows:stopped', onFlowsStopped);
      await broker?.close();
      store.close();
    })();
    return stopping;
  };
  return { url, busUrl, broker, stop };
}
