/**
 * The hub's configuration, read once from the environment. Every variable is listed in the
 * README; a bad value stops the start with a message that names the variable.
 */
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseEndpoint } from '../adapters/common/endpoint';
import { DEFAULT_DATABASE, DEFAULT_RETENTION, durationHours } from '../adapters/influx';
import { AE_TITLE, parsePacsEndpoint } from '../adapters/dicom/endpoint';
import { checkMailbox } from '../adapters/gp/directory/mailbox';

export interface HubConfig {
  host: string;
  port: number;
  dataDir: string;
  siteId: string;
  timeZone: string;
  /** An external broker; when absent the hub embeds its own on mqttPort. */
  mqttUrl?: string;
  mqttPort: number;
  mqttTlsPort?: number;
  mqttCredentials?: { username: string; password: string };
  admin?: { username: string; passwordHash?: string; password?: string };
  tls?: { certFile: string; keyFile: string };
  ehrMllp?: { host: string; port: number };
  /** How the site flow's "to the record" writes vitals: IHE PCD-01 (the device form) or v2.5 with LOINC. */
  ehrVitalsFormat: 'ihe-pcd-01' | 'v2.5-loinc';
  mllpInPort: number;
  /** The site flow's device inputs (issue 3): ASTM over TCP, ASTM on a serial port, POCT1-A. */
  astm: { tcpPort: number; serialPath?: string; serialBaud: number; profile: string };
  poct1aPort: number;
  /** Turnaround metrics (issue 4): the site flow's "to InfluxDB" node stays idle without a URL. */
  influx: { url?: string; database: string; retention: string; credentials?: { username: string; password: string } };
  /** Imaging (issue 5): the site flow's DICOM port (storage, worklist, MPPS), the PACS, the record's link. */
  dicom: { port: number; aeTitle: string; pacs?: { aeTitle: string; host: string; port: number }; commitment: boolean; viewerUrl?: string; quietSeconds: number };
  /** A folder the site flow's "photo in" watches for carts' photos and reports (absolute); unset: MQTT and the input only. */
  photoFolder?: string;
  /** The site flow's OPC UA (LADS) instrument (issue 6): its nodes stay off without an endpoint. */
  opcua: { endpoint?: string; securityMode: 'None' | 'Sign' | 'SignAndEncrypt'; ladsProfile: string };
  /** Results to the GP (issue 7): the site flow's GP nodes stay idle without GP_SMTP / GP_DROP_DIR. */
  gp: {
    smtp?: { host: string; port: number };
    from?: string;
    caFile?: string;
    certFile?: string;
    keyFile?: string;
    credentials?: { username: string; password: string };
    nil?: string;
    directory?: string;
    dropDir?: string;
    sender?: { finess: string; name: string; rpps: string; family: string; given?: string; hprimCode: string };
  };
  flowFile: string;
  retention: { maxAgeDays: number; maxMegabytes: number };
  durability: 'process-crash' | 'power-loss';
  credentialSecret?: string;
  /** Loopback without credentials: editor, API and broker open, said loudly at start. */
  demo: boolean;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** One of `allowed`, the first being the default. */
function oneOf<T extends string>(env: Env, name: string, allowed: readonly [T, ...T[]]): T {
  const value = env[name];
  if (value === undefined || value === '') return allowed[0];
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(`${name}=${value}: expected one of ${allowed.join(', ')}`);
  return value as T;
}

function integer(env: Env, name: string, fallback: number, min = 0, max = 65535): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw}: expected a whole number from ${min} to ${max}`);
  }
  return value;
}

function hostPort(name: string, raw: string): { host: string; port: number } {
  try {
    return parseEndpoint(raw);
  } catch (err) {
    throw new ConfigError(`${name}=${raw}: ${(err as Error).message}, for example 10.0.0.5:2575`);
  }
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function pair(env: Env, userVar: string, passVar: string): { username: string; password: string } | undefined {
  const username = env[userVar];
  const password = env[passVar];
  if (!username && !password) return undefined;
  if (!username || !password) throw new ConfigError(`${userVar} and ${passVar} go together: set both or neither`);
  return { username, password };
}

function influxConfig(env: Env): HubConfig['influx'] {
  const url = env.INFLUX_URL || undefined;
  if (url) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) throw new ConfigError(`INFLUX_URL=${url}: expected http(s)://host:port, for example http://127.0.0.1:8086`);
  }
  const database = env.INFLUX_DB || DEFAULT_DATABASE;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(database)) throw new ConfigError(`INFLUX_DB=${database}: letters, digits, '.', '_' and '-' only`);
  const retention = env.INFLUX_RETENTION || DEFAULT_RETENTION;
  try {
    durationHours(retention);
  } catch (err) {
    throw new ConfigError(`INFLUX_RETENTION=${retention}: ${(err as Error).message}`);
  }
  return { url, database, retention, credentials: pair(env, 'INFLUX_USERNAME', 'INFLUX_PASSWORD') };
}

function opcuaConfig(env: Env): HubConfig['opcua'] {
  const endpoint = env.OPCUA_ENDPOINT || undefined;
  if (endpoint && !/^opc\.tcp:\/\/[^\s/:]+(:\d{1,5})?(\/\S*)?$/.test(endpoint)) throw new ConfigError(`OPCUA_ENDPOINT=${endpoint}: expected opc.tcp://host:port[/path], for example opc.tcp://10.0.0.9:4840`);
  return { endpoint, securityMode: oneOf(env, 'OPCUA_SECURITY_MODE', ['None', 'Sign', 'SignAndEncrypt'] as const), ladsProfile: env.LADS_PROFILE || 'lads-generic' };
}

function dicomConfig(env: Env): HubConfig['dicom'] {
  const aeTitle = env.DICOM_AET || 'PASSERELLE';
  if (!AE_TITLE.test(aeTitle)) throw new ConfigError(`DICOM_AET=${aeTitle}: an AE title is 1 to 16 characters, no backslash`);
  let pacs: HubConfig['dicom']['pacs'];
  if (env.PACS_DICOM) {
    try {
      pacs = parsePacsEndpoint(env.PACS_DICOM);
    } catch (err) {
      throw new ConfigError(`PACS_DICOM=${env.PACS_DICOM}: ${(err as Error).message}; expected AET@host:port, for example ORTHANC@10.0.0.5:4242`);
    }
  }
  const viewerUrl = env.IMAGING_VIEWER_URL || undefined;
  if (viewerUrl && !/^https?:\/\/\S+$/.test(viewerUrl)) {
    throw new ConfigError(`IMAGING_VIEWER_URL=${viewerUrl}: expected an http(s) address with {study}, {accession} or {patient}, for example https://pacs/viewer?StudyInstanceUIDs={study}`);
  }
  const commitment = oneOf(env, 'PACS_COMMITMENT', ['off', 'on'] as const) === 'on';
  return { port: integer(env, 'DICOM_PORT', 11112, 1), aeTitle, pacs, commitment, viewerUrl, quietSeconds: integer(env, 'IMAGING_QUIET_SECONDS', 600, 0, 86_400) };
}

function gpConfig(env: Env, cwd: string): HubConfig['gp'] {
  const gp: HubConfig['gp'] = {};
  const file = (name: string) => (env[name] ? resolve(cwd, env[name]!) : undefined);
  if (env.GP_SMTP) gp.smtp = hostPort('GP_SMTP', env.GP_SMTP);
  if (env.GP_SMTP_FROM) {
    const check = checkMailbox(env.GP_SMTP_FROM);
    if (!check.ok) throw new ConfigError(`GP_SMTP_FROM=${env.GP_SMTP_FROM}: not a valid mailbox (${check.reason})`);
    gp.from = env.GP_SMTP_FROM;
  } else if (gp.smtp) throw new ConfigError('GP_SMTP needs GP_SMTP_FROM, the site\'s sending mailbox (for example passerelle@site.mssante.fr)');
  gp.caFile = file('GP_SMTP_CA');
  gp.certFile = file('GP_SMTP_CERT');
  gp.keyFile = file('GP_SMTP_KEY');
  if (Boolean(gp.certFile) !== Boolean(gp.keyFile)) throw new ConfigError('GP_SMTP_CERT and GP_SMTP_KEY go together');
  gp.credentials = pair(env, 'GP_SMTP_USER', 'GP_SMTP_PASSWORD');
  if (env.GP_MSS_NIL && !/^[\x21-\x7e]{1,64}$/.test(env.GP_MSS_NIL)) throw new ConfigError(`GP_MSS_NIL=${env.GP_MSS_NIL}: 1 to 64 printable characters, no spaces`);
  gp.nil = env.GP_MSS_NIL || undefined;
  gp.directory = file('GP_DIRECTORY');
  gp.dropDir = file('GP_DROP_DIR');
  const names = ['GP_SENDER_FINESS', 'GP_SENDER_NAME', 'GP_SENDER_RPPS', 'GP_SENDER_FAMILY', 'GP_HPRIM_CODE'] as const;
  if (gp.smtp || gp.dropDir || names.some((n) => env[n])) {
    const missing = names.filter((n) => !env[n]);
    if (missing.length > 0) throw new ConfigError(`results to the GP need the sending site: set ${missing.join(', ')}`);
    if (!/^\d{11}$/.test(env.GP_SENDER_RPPS!)) throw new ConfigError(`GP_SENDER_RPPS=${env.GP_SENDER_RPPS}: an RPPS number has 11 digits`);
    if (env.GP_HPRIM_CODE!.length > 10 || /[|\r\n]/.test(env.GP_HPRIM_CODE!)) throw new ConfigError(`GP_HPRIM_CODE=${env.GP_HPRIM_CODE}: 10 characters at most, no '|'`);
    gp.sender = { finess: env.GP_SENDER_FINESS!, name: env.GP_SENDER_NAME!, rpps: env.GP_SENDER_RPPS!, family: env.GP_SENDER_FAMILY!, given: env.GP_SENDER_GIVEN || undefined, hprimCode: env.GP_HPRIM_CODE! };
  }
  return gp;
}

export function readConfig(env: Env = process.env, cwd = process.cwd()): HubConfig {
  const host = env.HOST || '127.0.0.1';
  const mqttCredentials = pair(env, 'MQTT_USERNAME', 'MQTT_PASSWORD');
  const adminUser = env.PASSERELLE_ADMIN_USER;
  const adminHash = env.PASSERELLE_ADMIN_PASSWORD_HASH;
  const adminPassword = env.PASSERELLE_ADMIN_PASSWORD;
  if (adminUser && !adminHash && !adminPassword) {
    throw new ConfigError('PASSERELLE_ADMIN_USER needs PASSERELLE_ADMIN_PASSWORD or PASSERELLE_ADMIN_PASSWORD_HASH (bcrypt)');
  }
  if (!adminUser && (adminHash || adminPassword)) throw new ConfigError('an admin password was given without PASSERELLE_ADMIN_USER');
  const admin = adminUser ? { username: adminUser, passwordHash: adminHash, password: adminPassword } : undefined;

  const loopback = isLoopback(host);
  if (!loopback && (!admin || (!mqttCredentials && !env.MQTT_URL))) {
    throw new ConfigError(
      `HOST=${host} is not loopback: set PASSERELLE_ADMIN_USER/PASSERELLE_ADMIN_PASSWORD (editor and API login) and MQTT_USERNAME/MQTT_PASSWORD (broker) — the hub never runs open on a network`,
    );
  }

  const certFile = env.PASSERELLE_TLS_CERT;
  const keyFile = env.PASSERELLE_TLS_KEY;
  if (Boolean(certFile) !== Boolean(keyFile)) throw new ConfigError('PASSERELLE_TLS_CERT and PASSERELLE_TLS_KEY go together');

  const durability = env.PASSERELLE_DURABILITY || 'process-crash';
  if (durability !== 'process-crash' && durability !== 'power-loss') {
    throw new ConfigError(`PASSERELLE_DURABILITY=${durability}: expected process-crash or power-loss`);
  }
  const siteId = env.SITE_ID || 'demo-site';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(siteId)) throw new ConfigError(`SITE_ID=${siteId}: letters, digits, '.', '_' and '-' only (it is an MQTT topic level)`);
  const timeZone = env.SITE_TZ || 'Europe/Paris';
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw new ConfigError(`SITE_TZ=${timeZone}: not an IANA time zone`);
  }
  if (env.MQTT_URL && !/^(mqtts?|wss?):\/\//.test(env.MQTT_URL)) throw new ConfigError(`MQTT_URL=${env.MQTT_URL}: expected mqtt://, mqtts://, ws:// or wss://`);

  const mqttTlsPort = env.MQTTS_PORT ? integer(env, 'MQTTS_PORT', 8883) : undefined;
  if (mqttTlsPort !== undefined && !certFile) throw new ConfigError('MQTTS_PORT needs PASSERELLE_TLS_CERT and PASSERELLE_TLS_KEY');

  return {
    host,
    port: integer(env, 'PORT', 1880),
    dataDir: resolve(cwd, env.PASSERELLE_DATA_DIR || '.data'),
    siteId,
    timeZone,
    mqttUrl: env.MQTT_URL || undefined,
    mqttPort: integer(env, 'MQTT_PORT', 1883),
    mqttTlsPort,
    mqttCredentials,
    admin,
    tls: certFile && keyFile ? { certFile: resolve(cwd, certFile), keyFile: resolve(cwd, keyFile) } : undefined,
    ehrMllp: env.EHR_MLLP ? hostPort('EHR_MLLP', env.EHR_MLLP) : undefined,
    ehrVitalsFormat: oneOf(env, 'EHR_VITALS_FORMAT', ['ihe-pcd-01', 'v2.5-loinc'] as const),
    mllpInPort: integer(env, 'MLLP_IN_PORT', 2575),
    astm: {
      tcpPort: integer(env, 'ASTM_TCP_PORT', 5100),
      serialPath: env.ASTM_SERIAL_PATH || undefined,
      serialBaud: integer(env, 'ASTM_SERIAL_BAUD', 9600, 1200, 115200),
      profile: env.ASTM_PROFILE || 'auto',
    },
    poct1aPort: integer(env, 'POCT1A_PORT', 5200),
    influx: influxConfig(env),
    dicom: dicomConfig(env),
    photoFolder: env.PHOTO_FOLDER ? resolve(cwd, env.PHOTO_FOLDER) : undefined,
    opcua: opcuaConfig(env),
    gp: gpConfig(env, cwd),
    flowFile: resolve(cwd, env.PASSERELLE_FLOW_FILE || resolve(__dirname, '..', '..', 'flows', 'site.json')),
    retention: {
      maxAgeDays: integer(env, 'PASSERELLE_RETENTION_DAYS', 90, 1, 3650),
      maxMegabytes: integer(env, 'PASSERELLE_RETENTION_MB', 2048, 16, 10_000_000),
    },
    durability,
    credentialSecret: env.PASSERELLE_CREDENTIAL_SECRET || undefined,
    demo: loopback && !admin,
  };
}
