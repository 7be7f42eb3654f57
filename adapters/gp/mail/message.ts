/**
 * The MSSanté mail of one report to one GP, as the outbound queue holds it (JSON, attachments in
 * base64) and as it goes on the wire (RFC 5322 MIME composed by nodemailer's MailComposer). The
 * Message-ID is made from the queue's control id, the boundaries and the date from the queued
 * mail: a retry sends the same message, and a bounce names the control id it is about.
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import { GpFormatError } from '../errors';
import { checkMailbox } from '../directory/mailbox';
import { subjectOf, type GpReport, type ReportSubject } from '../report';
import * as X from '../xdm/format-details';
import type { GpFiles } from './files';

export const GP_MAIL_SCHEMA = 'passerelle.gp-mail/1';

export interface GpMail {
  schema: typeof GP_MAIL_SCHEMA;
  from: string;
  to: string;
  subject: string;
  text: string;
  /** X-MSS-* headers. */
  headers: Record<string, string>;
  /** ISO time the mail was made: its Date header. */
  date: string;
  documentId: string;
  resultIds: string[];
  attachments: Array<{ filename: string; contentType: string; base64: string }>;
}

export interface MailOptions {
  /** The site's sending mailbox (an MSSanté applicative mailbox). */
  from: string;
  /** X-MSS-NIL: the product reference from the Convergence declaration. */
  nil?: string;
  siteName: string;
  now?: Date;
}

/** The mail's subject line, by what the report is (no patient data). */
const SUBJECTS: Record<ReportSubject, string> = {
  biology: "Compte rendu d'examens biologiques",
  teleconsultation: 'Compte rendu de téléconsultation',
  imaging: "Notification d'examen d'imagerie",
};
const CORRECTION_SUBJECTS: Record<ReportSubject, string> = {
  biology: "Correction d'un compte rendu d'examens biologiques",
  teleconsultation: "Correction d'un compte rendu de téléconsultation",
  imaging: "Correction d'une notification d'examen d'imagerie",
};

/** Subject and body say what it is and who sends it; no patient data (headers travel through many logs). */
export function gpMail(report: GpReport, files: GpFiles, options: MailOptions): GpMail {
  const to = report.gp?.mailbox;
  if (!to) throw new GpFormatError('the report has no GP mailbox');
  for (const [what, address] of [['GP', to], ['sender', options.from]] as const) {
    const check = checkMailbox(address);
    if (!check.ok) throw new GpFormatError(`the ${what}'s address is not a valid mailbox: ${check.reason}`);
  }
  const headers: Record<string, string> = { [X.HEADER.nil]: options.nil || X.DEFAULT_NIL };
  if (files.cdaCodes.length > 0) {
    headers[X.HEADER.codeCda] = files.cdaCodes.join(',');
    headers[X.HEADER.ins] = files.insQualified ? X.INS_QUALIFIED : X.INS_NOT_QUALIFIED;
  }
  const kind = (report.correction ? CORRECTION_SUBJECTS : SUBJECTS)[subjectOf(report)];
  const text = [
    'Bonjour,',
    '',
    `${kind} de ${options.siteName}, en pièces jointes :`,
    ...files.files.map((f) => `- ${f.fileName} (${describe(f.format)})`),
    '',
    `Référence du document : ${report.documentId}`,
    'Message envoyé automatiquement par la passerelle du site ; merci de ne pas y répondre.',
    '',
  ].join('\r\n');
  return {
    schema: GP_MAIL_SCHEMA,
    from: options.from,
    to,
    subject: `${kind} - ${options.siteName}`,
    text,
    headers,
    date: (options.now ?? new Date()).toISOString(),
    documentId: report.documentId,
    resultIds: [...new Set(report.items.map((i) => i.resultId))],
    attachments: files.files.map((f) => ({ filename: f.fileName, contentType: f.contentType, base64: f.bytes.toString('base64') })),
  };
}

const MSS_HEADERS: readonly string[] = Object.values(X.HEADER);

function describe(format: string): string {
  return { 'hprim-medecin': 'HPRIM Médecin', 'hprim-sante': 'HPRIM Santé 2.2', 'cda-crbio': 'CDA CR-BIO dans une archive IHE XDM', pdf: 'PDF' }[format] ?? format;
}

/** `<controlId@sender's domain>`: the control id travels with the message and comes back in a bounce. */
export function messageIdFor(controlId: string, from: string): string {
  return `<${controlId}@${from.slice(from.lastIndexOf('@') + 1)}>`;
}

/** The control id a Message-ID carries (the inverse of messageIdFor); undefined for another's. */
export function controlIdOfMessageId(messageId: string): string | undefined {
  const m = /^\s*<?([A-Za-z0-9]+)@[^>\s]+>?\s*$/.exec(messageId);
  return m?.[1];
}

export function parseGpMail(payload: Buffer): GpMail {
  const mail = JSON.parse(payload.toString('utf8')) as GpMail;
  if (mail?.schema !== GP_MAIL_SCHEMA) throw new GpFormatError(`not a ${GP_MAIL_SCHEMA} message`);
  return mail;
}

/** The RFC 5322 bytes. Attachments go in base64, the body in quoted-printable UTF-8. */
export function composeMail(mail: GpMail, controlId: string): Promise<Buffer> {
  return new MailComposer({
    from: mail.from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    date: new Date(mail.date),
    messageId: messageIdFor(controlId, mail.from),
    headers: mail.headers,
    baseBoundary: controlId,
    // nodemailer writes X-Mss-Nil; MSSanté's headers are spelled in capitals (§3.2).
    normalizeHeaderKey: (key: string) => MSS_HEADERS.find((h) => h.toLowerCase() === key.toLowerCase()) ?? key,
    disableFileAccess: true,
    disableUrlAccess: true,
    attachments: mail.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.base64, 'base64'), contentTransferEncoding: 'base64' })),
  }).compile().build();
}
