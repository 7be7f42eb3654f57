/** What the delivery worker needs from a wire: MLLP, DICOM C-STORE (adapters/dicom/store-scu.ts), SMTP (adapters/gp/mail/smtp.ts), a folder drop (adapters/gp/folder/drop.ts). */
import type { EventEmitter } from 'node:events';

/** HL7 acknowledgement codes: original mode (A*) and enhanced mode commit ACKs (C*). */
export type AckCode = 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR';

export interface AckInfo {
  code: AckCode;
  /** MSA-2: the control id of the message acknowledged. */
  controlId: string;
  /** MSA-3 / ERR text. */
  text?: string;
  raw: Buffer;
}

/**
 * send() resolves with the ACK of that control id, or rejects with an error named
 * 'MllpTimeoutError' / 'DicomTimeoutError' / 'SmtpTimeoutError' (no answer in time) or 'MllpConnectionError' /
 * 'DicomConnectionError' / 'SmtpConnectionError' / 'DropConnectionError' (with `sent`: whether bytes left).
 * An ACK arriving after its send timed out is emitted as 'lateAck' (AckInfo).
 */
export interface Transport extends EventEmitter {
  send(payload: Buffer, controlId: string, timeoutMs: number): Promise<AckInfo>;
}

/** How a failed send counts, read from the error's name (no import of any transport). */
export type SendFailure =
  | { kind: 'timeout' }
  | { kind: 'connection'; sent: boolean }
  | { kind: 'other' };

export function classifyFailure(err: unknown): SendFailure {
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'MllpTimeoutError' || name === 'DicomTimeoutError' || name === 'SmtpTimeoutError') return { kind: 'timeout' };
  if (name === 'MllpConnectionError' || name === 'DicomConnectionError' || name === 'SmtpConnectionError' || name === 'DropConnectionError') return { kind: 'connection', sent: (err as { sent?: unknown }).sent === true };
  return { kind: 'other' };
}

export function isPositive(code: string): boolean {
  return code === 'AA' || code === 'CA';
}
