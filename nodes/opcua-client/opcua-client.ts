/**
 * passerelle-opcua-client (config node): one OPC UA server — endpoint, security mode and policy,
 * and how the hub authenticates (anonymous, user name and password, or a user certificate). The
 * nodes that use it share one connection and session, which reconnects by itself.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { join } from 'node:path';
import type { OpcuaAuth, OpcuaConnection, SecurityModeName, SecurityPolicyName } from '../../adapters/opcua';
import { hubSettings } from '../hub-settings';
import { opcuaAdapter } from '../opcua-adapter';

interface OpcuaClientDef extends NodeDef {
  endpoint: string;
  securityMode: SecurityModeName;
  securityPolicy: SecurityPolicyName;
  auth: 'anonymous' | 'username' | 'certificate';
  certificateFile: string;
  privateKeyFile: string;
  acceptUnknown: boolean;
}

interface OpcuaCredentials {
  username?: string;
  password?: string;
}

export interface OpcuaClientNode extends Node<OpcuaCredentials> {
  /** The endpoint as configured (after ${VARIABLE} substitution): empty when the site has no such instrument. */
  readonly endpoint: string;
  /** The shared connection (started on first use); give it back with `release` in the user's close handler. */
  acquire(): OpcuaConnection;
  release(): Promise<void>;
}

module.exports = function register(RED: NodeAPI): void {
  function OpcuaClientConfigNode(this: Node<OpcuaCredentials>, def: OpcuaClientDef): void {
    RED.nodes.createNode(this, def);
    const self = this as OpcuaClientNode & { endpoint: string };
    self.endpoint = (def.endpoint ?? '').trim();
    const credentials = this.credentials ?? {};
    let connection: OpcuaConnection | undefined;
    let users = 0;

    const auth = (): OpcuaAuth => {
      if (def.auth === 'username') return { kind: 'username', username: credentials.username ?? '', password: credentials.password ?? '' };
      if (def.auth === 'certificate') return { kind: 'certificate', certificateFile: def.certificateFile, privateKeyFile: def.privateKeyFile };
      return { kind: 'anonymous' };
    };

    /** Throws OpcuaConfigError (which setting, why) for a configuration that cannot work. */
    self.acquire = () => {
      if (!connection) {
        connection = new (opcuaAdapter().OpcuaConnection)({
          endpointUrl: self.endpoint,
          securityMode: def.securityMode || 'None',
          // A site flow may give only the mode (${OPCUA_SECURITY_MODE}): the current policy goes with it.
          securityPolicy: def.securityPolicy || (def.securityMode && def.securityMode !== 'None' ? 'Basic256Sha256' : 'None'),
          auth: auth(),
          pkiDir: join(hubSettings(RED).dataDir, 'opcua-pki'),
          acceptUnknownServerCertificate: def.acceptUnknown === true,
          applicationName: `Passerelle ${hubSettings(RED).siteId}`,
        });
        const started = connection;
        started.start().catch((err: Error) => {
          // The connection retries by itself; what stops it (a refused identity) is said here and on the users' dots (state failed).
          self.error(RED._('passerelle-opcua-client.errors.session', { endpoint: started.options.endpointUrl, reason: err.message }));
        });
      }
      users += 1;
      return connection;
    };

    self.release = async () => {
      users -= 1;
      if (users > 0 || !connection) return;
      const closing = connection;
      connection = undefined;
      await closing.close();
    };

    this.on('close', (done: () => void) => {
      const closing = connection;
      connection = undefined;
      users = 0;
      (closing ? closing.close() : Promise.resolve()).then(done, done);
    });
  }
  RED.nodes.registerType<Node<OpcuaCredentials>, OpcuaClientDef, unknown, OpcuaCredentials>('passerelle-opcua-client', OpcuaClientConfigNode, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });
};
