/**
 * Errors of the POCT1-A adapter. Their messages name elements, control ids and byte offsets, never
 * attribute values or text: those are patient data and the messages end up in logs.
 */
import type { XmlElement } from './xml';

export type Poct1DocumentErrorReason = 'not-well-formed' | 'oversize' | 'truncated' | 'unsupported-encoding';

/**
 * Bytes of the stream that are not one well-formed XML document. Not thrown: returned by the
 * splitter, in stream order, so the caller can journal `raw` and go on reading.
 */
export class Poct1DocumentError extends Error {
  constructor(
    readonly reason: Poct1DocumentErrorReason,
    /** The bytes as received. For 'oversize', only the first maxDocumentBytes. */
    readonly raw: Buffer,
    /** Position in the connection's byte stream of raw's first byte. */
    readonly offset: number,
    detail: string,
    /**
     * What was read of the document before the first error (elements completed up to there):
     * enough, usually, to find the HDR and answer the device with an AE for its control id.
     */
    readonly partial?: XmlElement,
  ) {
    super(`POCT1-A ${reason}: ${detail} (document at byte ${offset}, ${raw.length} bytes)`);
    this.name = 'Poct1DocumentError';
  }
}

/** A well-formed document that is not a POCT1-A message we can use (no HDR, a required element missing...). */
export class Poct1MessageError extends Error {
  constructor(message: string, readonly controlId?: string) {
    super(message);
    this.name = 'Poct1MessageError';
  }
}
