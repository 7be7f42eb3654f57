/**
 * Reads a bounce: a delivery status notification (RFC 3464) in a multipart/report (RFC 6522)
 * with report-type delivery-status. The message/delivery-status part gives, per recipient,
 * Final-Recipient, Original-Recipient, Action and Status; the returned message (message/rfc822
 * or text/rfc822-headers) gives the original Message-ID, and Original-Envelope-Id the ENVID we
 * sent. A small reader of its own: only these parts matter, and a mail that is not a DSN must
 * be told apart clearly (GpReadError), never crash whoever feeds it.
 */
import { GpReadError } from '../errors';

export interface DsnRecipient {
  finalRecipient?: string;
  originalRecipient?: string;
  action: string;
  /** x.y.z */
  status: string;
  diagnosticCode?: string;
  remoteMta?: string;
}

export interface DeliveryStatusNotification {
  reportingMta?: string;
  originalEnvelopeId?: string;
  /** The returned message's Message-ID, angle brackets included. */
  originalMessageId?: string;
  recipients: DsnRecipient[];
}

type Headers = Map<string, string[]>;

const MAX_BYTES = 10 * 1024 * 1024;
const MAX_DEPTH = 4;

export function readDsn(bytes: Buffer): DeliveryStatusNotification {
  if (bytes.length > MAX_BYTES) throw new GpReadError(`the mail is larger than ${MAX_BYTES} bytes`);
  const found: { status?: string; returned?: Headers } = {};
  walk(bytes.toString('latin1'), 0, found);
  if (found.status === undefined) throw new GpReadError('not a delivery status notification: no message/delivery-status part');
  const groups = found.status.replace(/\r\n|\r/g, '\n').split(/\n[ \t]*\n/).map((g) => parseHeaders(g)).filter((g) => g.size > 0);
  if (groups.length < 2) throw new GpReadError('the delivery-status part has no per-recipient fields');
  const [perMessage, ...perRecipient] = groups;
  const dsn: DeliveryStatusNotification = { recipients: [] };
  const first = (h: Headers, name: string) => h.get(name)?.[0]?.trim();
  const reporting = first(perMessage, 'reporting-mta');
  if (reporting) dsn.reportingMta = addressPart(reporting);
  const envid = first(perMessage, 'original-envelope-id');
  if (envid) dsn.originalEnvelopeId = envid;
  for (const [i, group] of perRecipient.entries()) {
    const action = first(group, 'action')?.toLowerCase();
    const status = first(group, 'status');
    if (!action || !status) throw new GpReadError(`recipient ${i + 1} of the delivery-status part has no Action or no Status`);
    const m = /^([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(status);
    if (!m) throw new GpReadError(`recipient ${i + 1}: Status is not x.y.z`);
    const recipient: DsnRecipient = { action, status: `${m[1]}.${m[2]}.${m[3]}` };
    const final = first(group, 'final-recipient');
    if (final) recipient.finalRecipient = addressPart(final);
    const original = first(group, 'original-recipient');
    if (original) recipient.originalRecipient = addressPart(original);
    const diagnostic = first(group, 'diagnostic-code');
    if (diagnostic) recipient.diagnosticCode = addressPart(diagnostic).slice(0, 300);
    const remote = first(group, 'remote-mta');
    if (remote) recipient.remoteMta = addressPart(remote);
    dsn.recipients.push(recipient);
  }
  const messageId = found.returned ? first(found.returned, 'message-id') : undefined;
  if (messageId) dsn.originalMessageId = messageId;
  return dsn;
}

/** Recipients the message could not be delivered to, for good (Action failed, Status 5.x.x). */
export function permanentFailures(dsn: DeliveryStatusNotification): DsnRecipient[] {
  return dsn.recipients.filter((r) => r.action === 'failed' && r.status.startsWith('5.'));
}

function walk(entity: string, depth: number, found: { status?: string; returned?: Headers }): void {
  if (depth > MAX_DEPTH) return;
  const { headers, body } = split(entity);
  const type = parseContentType(headers.get('content-type')?.[0]);
  const content = decodeBody(body, headers.get('content-transfer-encoding')?.[0]);
  if (type.value === 'message/delivery-status' || type.value === 'message/global-delivery-status') {
    found.status ??= content;
  } else if (type.value === 'message/rfc822' || type.value === 'message/global' || type.value === 'text/rfc822-headers') {
    found.returned ??= split(content).headers;
  } else if (type.value.startsWith('multipart/')) {
    const boundary = type.params.boundary;
    if (!boundary) throw new GpReadError('a multipart part has no boundary');
    for (const part of parts(content, boundary)) walk(part, depth + 1, found);
  }
}

function split(entity: string): { headers: Headers; body: string } {
  const m = /\r?\n\r?\n/.exec(entity);
  if (!m) return { headers: parseHeaders(entity), body: '' };
  return { headers: parseHeaders(entity.slice(0, m.index)), body: entity.slice(m.index + m[0].length) };
}

function parseHeaders(block: string): Headers {
  const headers: Headers = new Map();
  const unfolded = block.replace(/\r\n|\r/g, '\n').replace(/\n[ \t]+/g, ' ');
  for (const line of unfolded.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!/^[!-9;-~]+$/.test(name)) continue;
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return headers;
}

function parseContentType(value: string | undefined): { value: string; params: Record<string, string> } {
  if (!value) return { value: 'text/plain', params: {} };
  const [type, ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const m = /^\s*([^=\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]+))/.exec(p);
    if (m) params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  }
  return { value: type.trim().toLowerCase(), params };
}

function parts(body: string, boundary: string): string[] {
  const lines = body.split(/\r?\n/);
  const out: string[] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    const trimmed = line.trimEnd();
    if (trimmed === `--${boundary}--`) {
      if (current) out.push(current.join('\r\n'));
      return out;
    }
    if (trimmed === `--${boundary}`) {
      if (current) out.push(current.join('\r\n'));
      current = [];
    } else if (current) current.push(line);
  }
  if (current) out.push(current.join('\r\n'));
  return out;
}

function decodeBody(body: string, encoding: string | undefined): string {
  const cte = (encoding ?? '7bit').trim().toLowerCase();
  if (cte === 'base64') return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1');
  if (cte === 'quoted-printable') return body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return body;
}

/** `rfc822; a@b` → `a@b`; `dns; mx.example` → `mx.example`. */
function addressPart(value: string): string {
  const semi = value.indexOf(';');
  return (semi >= 0 ? value.slice(semi + 1) : value).trim();
}
