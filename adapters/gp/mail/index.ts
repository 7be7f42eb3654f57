/** The GP's files and their MSSanté mail: building, SMTP submission (a delivery Transport), bounces. See docs/gp.md. */
export { gpFiles, encodeGpFiles, decodeGpFiles, DEFAULT_FORMATS, GP_FILES_SCHEMA, type GpFile, type GpFiles, type GpFilesMessage, type GpSender } from './files';
export { gpMail, composeMail, parseGpMail, messageIdFor, controlIdOfMessageId, GP_MAIL_SCHEMA, type GpMail, type MailOptions } from './message';
export { SmtpTransport, SmtpConnectionError, SmtpTimeoutError, ackCodeForReply, type SmtpOptions } from './smtp';
export { readDsn, permanentFailures, type DeliveryStatusNotification, type DsnRecipient } from './dsn';
export { applyBounce, type BounceOutcome } from './bounce';
export { enqueueGpMail, GP_MAIL_CONTENT_TYPE } from './queue';
