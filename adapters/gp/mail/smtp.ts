/**
 * SMTP submission the MSSanté way (research notes §3.1): one connection per message, STARTTLS
 * required (nodemailer's requireTLS: no message leaves in clear), the server's certificate
 * verified against the system's CAs plus the site's (GP_SMTP_CA), optionally a client
 * certificate (IGC Santé) and/or credentials. It is the Transport of a DeliveryWorker; the
 * outcome of each send is read from the SMTP reply:
 *
 * - 2xx after DATA: AA (the server took the message);
 * - 5xx: AR (permanent: retried up to the last attempt, then a dead letter, like an HL7 AR);
 * - 4xx: AE (transient: retried with back-off);
 * - refused connection, DNS, TLS (a certificate that does not verify), login refused:
 *   SmtpConnectionError with sent=false (nothing reached the server: no attempt used, the queue
 *   waits and says why);
 * - the connection lost once the message was being sent: SmtpConnectionError with sent=true;
 * - no answer in time: SmtpTimeoutError.
 */
import { EventEmitter } from 'node:events';
import type { ConnectionOptions } from 'node:tls';
import nodemailer from 'nodemailer';
import type { AckCode, AckInfo, Transport } from '../../delivery/transport';
import { composeMail, parseGpMail } from './message';

export interface SmtpOptions {
  host: string;
  port: number;
  /** TLS options for STARTTLS: ca (added to the system's), cert/key or pfx (client certificate), servername. */
  tls?: ConnectionOptions;
  auth?: { user: string; pass: string };
  /** EHLO name; default the machine's host name. */
  name?: string;
}

export class SmtpConnectionError extends Error {
  constructor(message: string, readonly sent: boolean) {
    super(message);
    this.name = 'SmtpConnectionError';
  }
}

export class SmtpTimeoutError extends Error {
  constructor(ms: number, stage: string) {
    super(`no answer from the mail server within ${ms} ms (${stage})`);
    this.name = 'SmtpTimeoutError';
  }
}

interface NodemailerError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

/** An SMTP reply code as an acknowledgement (RFC 5321 §4.2.1); 503 (bad sequence) is a session problem, so transient. */
export function ackCodeForReply(code: number): AckCode {
  if (code >= 200 && code < 300) return 'AA';
  if (code >= 500 && code !== 503) return 'AR';
  return 'AE';
}

/** Commands after which the message itself had started to leave. */
const SENDING = new Set(['DATA']);

export class SmtpTransport extends EventEmitter implements Transport {
  constructor(private readonly options: SmtpOptions) {
    super();
  }

  async send(payload: Buffer, controlId: string, timeoutMs: number): Promise<AckInfo> {
    const mail = parseGpMail(payload);
    const raw = await composeMail(mail, controlId);
    const { host, port, tls, auth, name } = this.options;
    const transporter = nodemailer.createTransport({
      host,
      port,
      secure: false,
      requireTLS: true,
      tls: { ...tls, rejectUnauthorized: true },
      ...(auth ? { auth } : {}),
      ...(name ? { name } : {}),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    const where = `${host}:${port}`;
    try {
      // ENVID = the control id: a server that speaks DSN (RFC 3461) puts it in its bounce.
      const info = await transporter.sendMail({
        envelope: { from: mail.from, to: [mail.to] },
        dsn: { envid: controlId, notify: ['FAILURE', 'DELAY'], ret: 'HDRS', orcpt: `rfc822;${mail.to}` },
        raw,
      });
      const response = String(info.response ?? '');
      const code = Number(/^\d{3}/.exec(response)?.[0] ?? 250);
      return { code: ackCodeForReply(code), controlId, text: response.slice(0, 200), raw: Buffer.from(response, 'utf8') };
    } catch (err) {
      const e = err as NodemailerError;
      if (typeof e.responseCode === 'number' && e.responseCode >= 400 && e.code !== 'EAUTH' && e.code !== 'ETLS') {
        const response = String(e.response ?? e.message);
        return { code: ackCodeForReply(e.responseCode), controlId, text: `${e.command ?? 'SMTP'}: ${response}`.slice(0, 200), raw: Buffer.from(response, 'utf8') };
      }
      throw this.failure(e, where, timeoutMs);
    } finally {
      transporter.close();
    }
  }

  private failure(e: NodemailerError, where: string, timeoutMs: number): Error {
    const command = e.command ?? 'CONN';
    if (e.code === 'ETIMEDOUT') return new SmtpTimeoutError(timeoutMs, command);
    if (e.code === 'ETLS' || /certificate|self[- ]signed|altnames|SSL|TLS/i.test(e.message)) {
      return new SmtpConnectionError(`${where}: TLS failed, nothing sent (the server's certificate must verify against the system's CAs and GP_SMTP_CA): ${e.message}`, false);
    }
    if (e.code === 'EAUTH' || e.code === 'ENOAUTH') return new SmtpConnectionError(`${where}: the server refused the sender's credentials, nothing sent: ${e.message}`, false);
    return new SmtpConnectionError(`${where}: ${e.message}`, SENDING.has(command));
  }

  /** Nothing to release: every send has its own connection, closed when it settles. */
  async close(): Promise<void> {
    return undefined;
  }
}
