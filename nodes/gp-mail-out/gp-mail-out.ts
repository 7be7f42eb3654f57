/**
 * passerelle-gp-mail-out: a report's files (from "GP message") → the MSSanté mail to the GP,
 * through this node's durable queue: SMTP submission with STARTTLS required, the server's
 * certificate verified (system CAs plus GP_SMTP_CA), a client certificate and/or credentials;
 * retries, dead letters, delivery events on the bus. A bounce (the DSN mail, in msg.bounce)
 * turns the message it names into a dead letter.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { readFileSync } from 'node:fs';
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import { parseEndpoint } from '../../adapters/common/endpoint';
import { checkMailbox, GpReadError } from '../../adapters/gp';
import { applyBounce, decodeGpFiles, enqueueGpMail, gpMail, SmtpTransport } from '../../adapters/gp/mail';
import { idleGpQueue, runGpQueue, type GpQueueDef } from '../gp-queue';

interface GpMailOutDef extends NodeDef, GpQueueDef {
  /** host:port of the submission server, or ${GP_SMTP}. */
  smtp: string;
  from: string;
  nil: string;
  siteName: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** 'node': this node's credentials; 'env': GP_SMTP_USER / GP_SMTP_PASSWORD of the hub's environment. */
  credentialsFrom?: 'node' | 'env';
}

interface Credentials {
  username?: string;
  password?: string;
}

const UNSET = /^(\$\{[A-Za-z_][A-Za-z0-9_]*\})?$/;

module.exports = function register(RED: NodeAPI): void {
  function GpMailOutNode(this: Node<Credentials>, def: GpMailOutDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const notConfigured = (key: string, args: Record<string, string>) => {
      idleGpQueue(node, RED._('passerelle-gp-mail-out.status.not-configured'));
      node.error(RED._(`passerelle-gp-mail-out.errors.${key}`, args));
    };
    // No server given (GP_SMTP empty or unset in the site flow): idle, said by the status alone.
    if (UNSET.test((def.smtp || '').trim())) return idleGpQueue(node, RED._('passerelle-gp-mail-out.status.not-configured'));
    let endpoint: { host: string; port: number };
    try {
      endpoint = parseEndpoint(def.smtp);
    } catch (err) {
      return notConfigured('smtp', { value: def.smtp, reason: (err as Error).message });
    }
    const from = (def.from || '').trim();
    const fromCheck = checkMailbox(from);
    if (!fromCheck.ok) return notConfigured('from', { value: from, reason: fromCheck.reason });

    const tls: ConnectionOptions = {};
    try {
      const file = (path: string) => (UNSET.test(path.trim()) ? undefined : readFileSync(path.trim()));
      const ca = file(def.caFile || '');
      // GP_SMTP_CA is trusted in addition to the system's CAs, not instead.
      if (ca) tls.ca = [...rootCertificates, ca.toString('utf8')];
      const cert = file(def.certFile || '');
      const key = file(def.keyFile || '');
      if (cert && key) Object.assign(tls, { cert, key });
      else if (cert || key) throw new Error('a client certificate needs both its certificate and its key');
    } catch (err) {
      return notConfigured('tls', { reason: (err as Error).message });
    }
    // Node-RED substitutes no variable in credentials: the site flow takes the hub's from its environment.
    const credentials: Credentials = def.credentialsFrom === 'env' ? { username: process.env.GP_SMTP_USER, password: process.env.GP_SMTP_PASSWORD } : node.credentials ?? {};
    const auth = credentials.username ? { user: credentials.username, pass: credentials.password ?? '' } : undefined;
    const transport = new SmtpTransport({ ...endpoint, tls, ...(auth ? { auth } : {}) });
    const siteName = (def.siteName || '').trim() || 'Passerelle';

    runGpQueue(RED, node, def, {
      type: 'passerelle-gp-mail-out',
      transport,
      enqueue: (store, destination, payload) => {
        const { report, files } = decodeGpFiles(payload);
        return enqueueGpMail(store, destination, gpMail(report, files, { from, siteName, nil: (def.nil || '').trim() }));
      },
      special: (msg: NodeMessageInFlow & { bounce?: unknown }, store, publish) => {
        if (msg.bounce === undefined) return false;
        const mail = Buffer.isBuffer(msg.bounce) ? msg.bounce : Buffer.from(String(msg.bounce), 'latin1');
        let outcome: ReturnType<typeof applyBounce>;
        try {
          outcome = applyBounce(store, node.id, mail);
        } catch (err) {
          if (err instanceof GpReadError) throw new Error(RED._('passerelle-gp-mail-out.errors.bounce', { reason: err.message }));
          throw err;
        }
        if (outcome.applied) publish(outcome.event);
        else node.warn(RED._('passerelle-gp-mail-out.errors.bounce-ignored', { reason: outcome.reason }));
        return true;
      },
    });
  }
  RED.nodes.registerType<Node<Credentials>, GpMailOutDef, unknown, Credentials>('passerelle-gp-mail-out', GpMailOutNode, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });
};
