/**
 * One OPC UA server, one connection and one session, kept up by itself: node-opcua's connection
 * strategy retries with back-off (forever), and its session repair re-activates the session or,
 * when the server restarted, creates a new one and re-creates the subscriptions and their
 * monitored items. What the connection goes through is said with `state` events:
 * connecting → connected → lost → reconnecting (each attempt) → connected … → closed; `failed`
 * when the server refuses the session (a wrong password, a certificate it does not trust).
 */
import { EventEmitter } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { restoreOpensslConf } from './openssl-env';
import {
  MessageSecurityMode, OPCUACertificateManager, OPCUAClient, SecurityPolicy, UserTokenType,
  type ClientSession, type UserIdentityInfo,
} from 'node-opcua';

export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export type SecurityModeName = (typeof SECURITY_MODES)[number];
/** The policies offered: the current ones (no Basic128Rsa15 or Basic256, deprecated by OPC UA 1.04). */
export const SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
export type SecurityPolicyName = (typeof SECURITY_POLICIES)[number];

export type OpcuaAuth =
  | { kind: 'anonymous' }
  | { kind: 'username'; username: string; password: string }
  /** An X.509 user certificate (PEM or DER file) and its private key (PEM file). */
  | { kind: 'certificate'; certificateFile: string; privateKeyFile: string };

export interface OpcuaClientOptions {
  /** opc.tcp://host:port[/path] */
  endpointUrl: string;
  securityMode: SecurityModeName;
  securityPolicy: SecurityPolicyName;
  auth: OpcuaAuth;
  /**
   * The client's PKI folder: its own application certificate (made on first use) in own/, the
   * servers it trusts in trusted/, the ones it refused in rejected/ (move one to trusted/ to accept it).
   */
  pkiDir: string;
  /** Trust a server certificate seen for the first time (and keep it in trusted/). */
  acceptUnknownServerCertificate?: boolean;
  applicationName?: string;
  /** Reconnection back-off: first delay and ceiling, milliseconds (default 1 s and 30 s). */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
}

/** `failed`: the server answered but refused the session (identity, security): not retried until restarted. */
export type ConnectionState = 'connecting' | 'connected' | 'lost' | 'reconnecting' | 'failed' | 'closed';

export interface StateEvent {
  state: ConnectionState;
  /** Reconnection attempt number (reconnecting). */
  attempt?: number;
  /** The next attempt in (reconnecting), milliseconds. */
  retryInMs?: number;
  error?: Error;
}

/** A configuration an OPC UA client cannot use: says which setting and why. */
export class OpcuaConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpcuaConfigError';
  }
}

const ENDPOINT = /^opc\.tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?(\/\S*)?$/;

/** The options checked: a clear error naming the setting, before anything connects. */
export function checkClientOptions(options: OpcuaClientOptions): OpcuaClientOptions {
  if (!ENDPOINT.test(options.endpointUrl)) throw new OpcuaConfigError(`endpoint ${JSON.stringify(options.endpointUrl)} is not opc.tcp://host:port`);
  if (!SECURITY_MODES.includes(options.securityMode)) throw new OpcuaConfigError(`security mode ${JSON.stringify(options.securityMode)}: None, Sign or SignAndEncrypt`);
  if (!SECURITY_POLICIES.includes(options.securityPolicy)) throw new OpcuaConfigError(`security policy ${JSON.stringify(options.securityPolicy)}: ${SECURITY_POLICIES.join(', ')}`);
  if ((options.securityMode === 'None') !== (options.securityPolicy === 'None')) {
    throw new OpcuaConfigError(`security mode ${options.securityMode} with policy ${options.securityPolicy}: mode None goes with policy None, Sign and SignAndEncrypt with another`);
  }
  const { auth } = options;
  if (auth.kind === 'username' && !auth.username) throw new OpcuaConfigError('user authentication without a user name');
  if (auth.kind === 'certificate' && (!auth.certificateFile || !auth.privateKeyFile)) throw new OpcuaConfigError('certificate authentication needs a certificate file and a private key file');
  return options;
}

/** The user identity for the session; certificate files are read here (a clear error if unreadable). */
export function userIdentity(auth: OpcuaAuth): UserIdentityInfo {
  if (auth.kind === 'username') return { type: UserTokenType.UserName, userName: auth.username, password: auth.password };
  if (auth.kind === 'certificate') {
    let certificate: Buffer;
    let privateKey: string;
    try {
      certificate = readFileSync(auth.certificateFile);
      privateKey = readFileSync(auth.privateKeyFile, 'utf8');
    } catch (err) {
      throw new OpcuaConfigError(`user certificate: ${(err as Error).message}`);
    }
    let der: Buffer;
    try {
      der = new X509Certificate(certificate).raw;
    } catch (err) {
      throw new OpcuaConfigError(`user certificate ${auth.certificateFile}: not an X.509 certificate (${(err as Error).message})`);
    }
    return { type: UserTokenType.Certificate, certificateData: der, privateKey };
  }
  return { type: UserTokenType.Anonymous };
}

export class OpcuaConnection extends EventEmitter {
  readonly options: OpcuaClientOptions;
  private client?: OPCUAClient;
  private current?: ClientSession;
  private stateNow: ConnectionState = 'closed';
  private closing = false;
  private started?: Promise<void>;

  constructor(options: OpcuaClientOptions) {
    super();
    this.options = checkClientOptions(options);
  }

  get state(): ConnectionState { return this.stateNow; }

  /** The session, while connected (undefined while connecting or reconnecting). */
  session(): ClientSession | undefined {
    return this.stateNow === 'connected' ? this.current : undefined;
  }

  private setState(event: StateEvent): void {
    restoreOpensslConf();
    this.stateNow = event.state;
    this.emit('state', event);
  }

  /** Connects (retrying until the server answers) and opens the session; resolves once connected. */
  start(): Promise<void> {
    this.started ??= this.run().catch((err: Error) => {
      if (!this.closing) this.setState({ state: 'failed', error: err });
      throw err;
    });
    return this.started;
  }

  private async run(): Promise<void> {
    const { options } = this;
    const identity = userIdentity(options.auth);
    mkdirSync(options.pkiDir, { recursive: true });
    const certificateManager = new OPCUACertificateManager({ rootFolder: options.pkiDir, automaticallyAcceptUnknownCertificate: options.acceptUnknownServerCertificate === true });
    const client = OPCUAClient.create({
      applicationName: options.applicationName ?? 'Passerelle',
      applicationUri: `urn:passerelle:${options.applicationName ?? 'hub'}`,
      endpointMustExist: false,
      securityMode: MessageSecurityMode[options.securityMode],
      securityPolicy: SecurityPolicy[options.securityPolicy],
      clientCertificateManager: certificateManager,
      certificateFile: join(options.pkiDir, 'own', 'certs', 'client_certificate.pem'),
      privateKeyFile: join(options.pkiDir, 'own', 'private', 'private_key.pem'),
      keepSessionAlive: true,
      requestedSessionTimeout: 60_000,
      connectionStrategy: { maxRetry: Number.MAX_SAFE_INTEGER, initialDelay: options.reconnect?.initialDelayMs ?? 1000, maxDelay: options.reconnect?.maxDelayMs ?? 30_000 },
    });
    this.client = client;
    let attempt = 0;
    client.on('connection_lost', () => {
      if (!this.closing) this.setState({ state: 'lost' });
    });
    client.on('backoff', (count: number, delay: number) => {
      if (this.closing) return;
      attempt = count + 1;
      this.setState({ state: this.stateNow === 'connecting' ? 'connecting' : 'reconnecting', attempt, retryInMs: delay });
    });
    client.on('reconnection_attempt_has_failed', (err: Error) => {
      if (!this.closing) this.setState({ state: 'reconnecting', attempt, error: err });
    });
    // Connected again once the session is repaired (its subscriptions re-created by node-opcua).
    const restored = () => {
      if (!this.closing && this.stateNow !== 'connected') this.setState({ state: 'connected' });
    };
    client.on('connection_reestablished', restored);
    this.setState({ state: 'connecting' });
    try {
      await client.connect(options.endpointUrl);
    } finally {
      restoreOpensslConf();
    }
    if (this.closing) return;
    const session = await client.createSession(identity).finally(restoreOpensslConf);
    session.on('session_restored', restored);
    this.current = session;
    if (this.closing) return;
    this.setState({ state: 'connected' });
  }

  /** Closes the session and the connection, and stops retrying. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    try {
      await this.current?.close(true).catch(() => undefined);
    } finally {
      await this.client?.disconnect().catch(() => undefined);
      this.stateNow = 'closed';
      this.emit('state', { state: 'closed' } satisfies StateEvent);
    }
  }
}
