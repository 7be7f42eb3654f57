/**
 * Errors of the HL7v2 adapter. Their messages name segments, fields, control IDs and byte
 * offsets, never field contents: they end up in logs, and field contents are patient data.
 */

/** The text is not an HL7v2 message we can read (no MSH first, bad delimiters, bad segment name, ...). */
export class Hl7ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Hl7ParseError';
  }
}

/** A canonical result cannot be written as HL7 (no patient, patient not matched, a number that is not finite, ...). */
export class Hl7BuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Hl7BuildError';
  }
}

/** No ACK with the message's control ID arrived in time. The message stays unanswered, not refused. */
export class MllpTimeoutError extends Error {
  constructor(readonly controlId: string, readonly timeoutMs: number) {
    super(`no ACK for control ID ${controlId} within ${timeoutMs} ms`);
    this.name = 'MllpTimeoutError';
  }
}

/**
 * The connection could not be made, or dropped before the ACK. `sent` is true when bytes of the
 * message may have reached the peer: the receiver may have stored it, so a retry must reuse the
 * same control ID.
 */
export class MllpConnectionError extends Error {
  constructor(message: string, readonly sent: boolean, readonly controlId?: string) {
    super(message);
    this.name = 'MllpConnectionError';
  }
}

export type MllpFrameErrorReason = 'garbage' | 'oversize' | 'unexpected-start' | 'truncated';

/**
 * Bytes the MLLP decoder could not turn into a message. Not thrown: returned by the decoder so the
 * caller can journal `raw` (the bytes as received) and go on reading.
 */
export class MllpFrameError extends Error {
  constructor(
    readonly reason: MllpFrameErrorReason,
    /** The bytes as received (start byte included). For 'oversize', only the first bytes, up to the limit. */
    readonly raw: Buffer,
    /** Position in the connection's byte stream of raw's first byte. */
    readonly offset: number,
    detail: string,
  ) {
    super(`MLLP ${reason}: ${detail} (at byte ${offset})`);
    this.name = 'MllpFrameError';
  }
}
