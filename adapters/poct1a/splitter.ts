/**
 * Splits a POCT1-A byte stream into documents. POCT1-A sends XML documents back to back over TCP
 * with no framing bytes: a document ends where its root element ends. saxes reads each document
 * (and checks it is well-formed); the splitter only decides which bytes to hand it and where a
 * document stops.
 *
 * - Bytes are handed to saxes one `>` at a time. A root element can only end on a `>` byte, and
 *   `>` (0x3E) is never part of a multi-byte UTF-8 character, so each piece decodes on its own and
 *   the document's last byte is known exactly.
 * - Encoding: UTF-8 unless the `<?xml …?>` declaration names ISO-8859-1 (or US-ASCII). The
 *   declaration is ASCII, so it is read before the encoding is chosen.
 * - A document that is not well-formed comes out as a Poct1DocumentError carrying its raw bytes.
 *   Its end is the end tag of its root (`</OBS.R01>`), or the next `<?xml` or message root start
 *   (`<EOT.R01`), whichever comes first: there the splitter picks up again.
 * - A message root opened inside another message means the first one was cut short: it is an
 *   error, and the new message is read.
 * - maxDocumentBytes bounds what is held for one document (default 1 MiB); an error's raw bytes
 *   stop there too.
 */
import { SaxesParser } from 'saxes';
import { Poct1DocumentError, type Poct1DocumentErrorReason } from './errors';
import { XmlTreeBuilder, type XmlElement, type XmlEncoding } from './xml';

export const DEFAULT_MAX_DOCUMENT_BYTES = 1024 * 1024;

/** The root names of POCT1-A messages: HEL.R01, OBS.R02, EOT.R01… */
export const MESSAGE_ROOT = /^[A-Z][A-Z0-9]{2}\.R\d{2}$/;

export interface Poct1Document {
  /** The document's root element, with everything in it. */
  root: XmlElement;
  /** The document's bytes exactly as received, `<?xml …?>` included. */
  raw: Buffer;
  /** Position in the connection's byte stream of raw's first byte. */
  offset: number;
  encoding: XmlEncoding;
}

export type SplitItem = Poct1Document | Poct1DocumentError;

export interface SplitterOptions {
  maxDocumentBytes?: number;
  /** Which element names start a message (where to pick up after a broken document). Default: MESSAGE_ROOT. */
  isMessageRoot?: (name: string) => boolean;
}

const GT = 0x3e;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const XML_DECL = /^<\?xml[ \t\r\n]/;
/** After a broken document: `<?xml `, a start or end tag's name (the caller checks which). */
const LANDMARK = /<(\?xml(?=[ \t\r\n?])|\/?[A-Za-z_:][A-Za-z0-9._:-]*)/g;
/** How far back an unfinished landmark may start and still be kept for the next chunk. */
const LANDMARK_TAIL = 512;

interface Failure {
  reason: Poct1DocumentErrorReason;
  detail: string;
}

/** The document being read. */
interface Reading {
  start: number;
  parts: Buffer[];
  length: number;
  /** Bytes since the last `>` handed to saxes. */
  pending: Buffer[];
  parser: SaxesParser;
  builder: XmlTreeBuilder;
  first: boolean;
  encoding: XmlEncoding;
  /** Stream offset just after the piece being fed (it ends with the `>` saxes is at). */
  sliceEnd: number;
  rootName?: string;
  /** Stream offset just after the root's start tag: no place to pick up again lies before it. */
  rootOpenEnd?: number;
  rootClosed: boolean;
  failure?: Failure;
  /** The failure is in the `<?xml …?>` declaration: the root that follows is still this document's. */
  failedInDeclaration?: boolean;
}

/** A broken document whose end is being looked for. */
interface Recovering {
  start: number;
  failure: Failure;
  rootName?: string;
  /** The next message root start is this document's own root, not a place to pick up again. */
  ownRootAhead: boolean;
  partial?: XmlElement;
  /** The broken document's bytes; dropped once the error has been reported (size bound). */
  parts: Buffer[];
  length: number;
  reported: boolean;
  /** The bytes still to search, one char per byte (latin1), and the stream offset of its first. */
  window: string;
  windowStart: number;
}

export class Poct1Splitter {
  readonly maxDocumentBytes: number;
  private readonly isMessageRoot: (name: string) => boolean;
  private reading: Reading | undefined;
  private recovering: Recovering | undefined;
  /** Stream offset of the next byte pushed. */
  private offset = 0;
  private out: SplitItem[] = [];

  constructor(options: SplitterOptions = {}) {
    this.maxDocumentBytes = options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
    if (!(this.maxDocumentBytes > 0)) throw new RangeError('maxDocumentBytes must be positive');
    this.isMessageRoot = options.isMessageRoot ?? ((name) => MESSAGE_ROOT.test(name));
  }

  /** Feeds bytes; returns the documents completed and the errors found, in stream order. */
  push(chunk: Buffer): SplitItem[] {
    let data: Buffer | undefined = chunk;
    let at = this.offset;
    this.offset += chunk.length;
    while (data && data.length > 0) {
      const next: { data: Buffer; at: number } | undefined = this.recovering ? this.recover(data) : this.reading ? this.read(data, at) : this.between(data, at);
      data = next?.data;
      at = next?.at ?? at;
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  /** The connection closed: reports what was left unfinished. */
  end(): SplitItem[] {
    const reading = this.reading;
    if (reading) {
      this.reading = undefined;
      const raw = Buffer.concat(reading.parts);
      this.out.push(new Poct1DocumentError('truncated', raw, reading.start, 'the connection ended inside a document', reading.builder.root));
    }
    const recovering = this.recovering;
    if (recovering) {
      this.recovering = undefined;
      if (!recovering.reported) this.out.push(this.errorOf(recovering, Buffer.concat(recovering.parts).subarray(0, this.maxDocumentBytes)));
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  /** Between documents: whitespace is skipped, anything else starts a document. */
  private between(data: Buffer, at: number): { data: Buffer; at: number } | undefined {
    let i = 0;
    while (i < data.length && (data[i] === 0x20 || data[i] === 0x09 || data[i] === 0x0a || data[i] === 0x0d)) i += 1;
    if (i === data.length) return undefined;
    this.reading = this.startDocument(at + i);
    return { data: data.subarray(i), at: at + i };
  }

  private startDocument(start: number): Reading {
    const parser = new SaxesParser();
    const reading: Reading = {
      start, parts: [], length: 0, pending: [], parser, first: true, encoding: 'UTF-8', sliceEnd: start, rootClosed: false,
      builder: new XmlTreeBuilder(parser, {
        onOpen: (name, depth) => {
          // saxes reports a start tag on its `>`, and each piece fed ends with the only `>` in it.
          if (depth === 0) {
            reading.rootName = name;
            reading.rootOpenEnd = reading.sliceEnd;
          } else if (this.isMessageRoot(name)) {
            this.fail(reading, 'not-well-formed', `a message root started inside <${reading.rootName}>: that message was cut short`);
          }
        },
        onClose: (depth) => {
          if (depth === 0) reading.rootClosed = true;
        },
      }),
    };
    parser.on('error', (err) => this.fail(reading, 'not-well-formed', err.message));
    return reading;
  }

  private fail(reading: Reading, reason: Poct1DocumentErrorReason, detail: string): void {
    if (reading.failure) return;
    reading.failure = { reason, detail };
    reading.builder.fail();
  }

  /** Inside a document: hands saxes everything up to each `>` until the root element ends. */
  private read(data: Buffer, at: number): { data: Buffer; at: number } | undefined {
    const reading = this.reading!;
    let rest = data;
    let restAt = at;
    for (;;) {
      const gt = rest.indexOf(GT);
      const piece = gt < 0 ? rest : rest.subarray(0, gt + 1);
      reading.parts.push(piece);
      reading.length += piece.length;
      if (reading.length > this.maxDocumentBytes) {
        this.fail(reading, 'oversize', `no end of the document within ${this.maxDocumentBytes} bytes`);
        return this.toRecovering(reading, rest.subarray(piece.length), restAt + piece.length);
      }
      if (gt < 0) {
        reading.pending.push(piece);
        return undefined;
      }
      reading.pending.push(piece);
      const slice = reading.pending.length === 1 ? reading.pending[0] : Buffer.concat(reading.pending);
      reading.pending = [];
      reading.sliceEnd = restAt + gt + 1;
      this.feed(reading, slice);
      rest = rest.subarray(gt + 1);
      restAt += gt + 1;
      if (reading.failure) return this.toRecovering(reading, rest, restAt);
      if (reading.rootClosed) {
        this.reading = undefined;
        const raw = reading.parts.length === 1 ? reading.parts[0] : Buffer.concat(reading.parts);
        // A copy: a document outlives the socket's chunk it was cut from.
        this.out.push({ root: reading.builder.root!, raw: Buffer.from(raw), offset: reading.start, encoding: reading.encoding });
        return { data: rest, at: restAt };
      }
      if (rest.length === 0) return undefined;
    }
  }

  /** Decodes one piece (ending with `>`) and writes it to saxes. */
  private feed(reading: Reading, slice: Buffer): void {
    let bytes = slice;
    if (reading.first) {
      reading.first = false;
      if (bytes.subarray(0, 3).equals(BOM)) bytes = bytes.subarray(3);
      const head = bytes.toString('latin1', 0, 6);
      if (XML_DECL.test(head)) {
        // The declaration is ASCII and ends at this `>`: read it, then choose the decoding.
        reading.parser.write(bytes.toString('latin1'));
        const encoding = encodingOf(reading.parser.xmlDecl.encoding);
        if (!reading.failure && !encoding) this.fail(reading, 'unsupported-encoding', 'the XML declaration names an encoding other than UTF-8, ISO-8859-1 or US-ASCII');
        reading.failedInDeclaration = reading.failure !== undefined;
        if (encoding) reading.encoding = encoding;
        return;
      }
    }
    let text: string;
    if (reading.encoding === 'ISO-8859-1') text = bytes.toString('latin1');
    else {
      try {
        text = utf8.decode(bytes);
      } catch {
        this.fail(reading, 'not-well-formed', 'bytes that are not UTF-8');
        return;
      }
    }
    reading.parser.write(text);
  }

  private toRecovering(reading: Reading, rest: Buffer, restAt: number): { data: Buffer; at: number } | undefined {
    this.reading = undefined;
    const all = Buffer.concat(reading.parts);
    // The document's own start (and its root's start tag) is not a place to pick up again.
    const searchFrom = reading.rootOpenEnd ?? reading.start + 1;
    const recovering: Recovering = {
      start: reading.start,
      failure: reading.failure!,
      rootName: reading.rootName,
      ownRootAhead: reading.failedInDeclaration === true,
      partial: reading.builder.root,
      parts: [all],
      length: all.length,
      reported: false,
      window: all.toString('latin1', searchFrom - reading.start),
      windowStart: searchFrom,
    };
    this.recovering = recovering;
    const found = this.search(recovering);
    if (found) return this.resolve(recovering, found, rest);
    this.checkBound(recovering);
    return rest.length > 0 ? { data: rest, at: restAt } : undefined;
  }

  /** After a broken document: looks for its end, keeping its bytes up to the size bound. */
  private recover(data: Buffer): { data: Buffer; at: number } | undefined {
    const recovering = this.recovering!;
    if (!recovering.reported) {
      recovering.parts.push(data);
      recovering.length += data.length;
    }
    recovering.window += data.toString('latin1');
    const found = this.search(recovering);
    if (found) return this.resolve(recovering, found, Buffer.alloc(0));
    this.checkBound(recovering);
    return undefined;
  }

  /** Reports a broken document that has gone past the bound without an end in sight. */
  private checkBound(recovering: Recovering): void {
    // The margin lets a landmark that starts within the bound be recognised whatever the chunking.
    if (!recovering.reported && recovering.length > this.maxDocumentBytes + LANDMARK_TAIL) this.report(recovering);
  }

  /**
   * The end of the broken document in the window: `{ end }` (window index, exclusive), or
   * undefined (then the window is trimmed to what may still start a landmark).
   */
  private search(recovering: Recovering): { end: number } | undefined {
    const { window } = recovering;
    LANDMARK.lastIndex = 0;
    let unfinished = -1;
    // Landmarks before this index were looked at: the trimmed window must not offer them again.
    let examined = 0;
    for (let m = LANDMARK.exec(window); m; m = LANDMARK.exec(window)) {
      const token = m[1];
      const after = m.index + m[0].length;
      if (token.startsWith('?')) return { end: m.index };
      if (after === window.length) {
        unfinished = m.index; // the name may go on in the next chunk
        break;
      }
      if (token.startsWith('/')) {
        if (token.slice(1) === recovering.rootName) {
          const close = /^[ \t\r\n]*(>)?/.exec(window.slice(after, after + LANDMARK_TAIL))!;
          if (close[1]) return { end: after + close[0].length };
          if (after + close[0].length === window.length) {
            unfinished = m.index;
            break;
          }
        }
      } else if (/[ \t\r\n/>]/.test(window[after]) && this.isMessageRoot(token)) {
        if (!recovering.ownRootAhead) return { end: m.index };
        recovering.ownRootAhead = false;
        recovering.rootName = token;
      }
      examined = after;
    }
    let keep = unfinished;
    if (keep < 0) {
      // A `<` at the very end may start a landmark once more bytes come.
      const lt = window.lastIndexOf('<');
      if (lt >= examined && window.length - lt < LANDMARK_TAIL) keep = lt;
    }
    const cut = keep < 0 ? window.length : keep;
    recovering.window = window.slice(cut);
    recovering.windowStart += cut;
    return undefined;
  }

  /** The broken document ends at `found.end`: reports it and goes on with what follows. */
  private resolve(recovering: Recovering, found: { end: number }, rest: Buffer): { data: Buffer; at: number } | undefined {
    this.recovering = undefined;
    const endAt = recovering.windowStart + found.end;
    if (!recovering.reported) this.out.push(this.errorOf(recovering, Buffer.concat(recovering.parts).subarray(0, Math.min(endAt - recovering.start, this.maxDocumentBytes))));
    // The window holds every byte from endAt to the end of what was pushed so far; `rest` follows.
    const after = Buffer.from(recovering.window.slice(found.end), 'latin1');
    const data = rest.length > 0 ? Buffer.concat([after, rest]) : after;
    return data.length > 0 ? { data, at: endAt } : undefined;
  }

  private report(recovering: Recovering): void {
    const all = Buffer.concat(recovering.parts);
    this.out.push(this.errorOf(recovering, all.subarray(0, Math.min(all.length, this.maxDocumentBytes))));
    recovering.reported = true;
    recovering.parts = [];
    recovering.length = 0;
  }

  private errorOf(recovering: Recovering, raw: Buffer): Poct1DocumentError {
    return new Poct1DocumentError(recovering.failure.reason, Buffer.from(raw), recovering.start, recovering.failure.detail, recovering.partial);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The decoding for an XML declaration's encoding name (names are case-insensitive). */
function encodingOf(declared: string | undefined): XmlEncoding | undefined {
  if (declared === undefined) return 'UTF-8';
  switch (declared.toLowerCase()) {
    case 'utf-8':
    case 'utf8':
    case 'us-ascii':
    case 'ascii':
      return 'UTF-8';
    case 'iso-8859-1':
    case 'iso_8859-1':
    case 'iso8859-1':
    case 'latin1':
    case 'latin-1':
    case 'l1':
      return 'ISO-8859-1';
    default:
      return undefined;
  }
}
