/**
 * Storage commitment, push model (DICOM PS3.4 annex J; IHE RAD-10): after the PACS accepted
 * objects by C-STORE, the hub asks it (N-ACTION, one transaction UID for a batch) to take
 * responsibility for keeping them; the PACS answers later with an N-EVENT-REPORT naming the
 * objects it committed and those it could not. Most PACSs (Orthanc among them) send that report
 * on a new association to the requester's AE title, i.e. to the hub's DICOM listener; some send
 * it on the request's own association, which is kept open a moment for that.
 *
 * The committer keeps its state in the journal (adapters/journal/commitments.ts): an object owed
 * a commitment is written in the same commit as its acceptance, a request is recorded before it
 * leaves, and a report is applied in one commit — a failed object's outbound message re-queued
 * in it (same control id), so it is stored again and asked again. A report the hub cannot match
 * to a request of its own is answered with a failure and changes nothing.
 */
import { EventEmitter } from 'node:events';
import type { ConnectionOptions } from 'node:tls';
import { Client, Dataset, requests, responses, type requests as RequestTypes } from 'dcmjs-dimse';
import type { Clock } from '../common/clock';
import { systemClock } from '../common/clock';
import { kickDestination } from '../delivery/registry';
import type { CommitmentItem, OutboundMessage, Store } from '../journal';
import { DicomConnectionError, DicomTimeoutError, type ForwardRequest, type PacsEndpoint } from './store-scu';
import { isUid, uuidUid } from './uids';

export const STORAGE_COMMITMENT_PUSH = '1.2.840.10008.1.20.1';
/** The well-known SOP instance of the push model (PS3.4 J.3.5). */
export const STORAGE_COMMITMENT_INSTANCE = '1.2.840.10008.1.20.1.1';
const REQUEST_ACTION = 1;
/** N-EVENT-REPORT event types: every object committed, or failures exist (PS3.4 J.3.3). */
export const EVENT_ALL_COMMITTED = 1;
export const EVENT_FAILURES = 2;

/** Failure reasons (PS3.3 C.14.1.1). */
const FAILURE_REASONS: Record<number, string> = {
  0x0110: 'processing failure',
  0x0112: 'no such object instance',
  0x0119: 'class-instance conflict',
  0x0122: 'referenced SOP class not supported',
  0x0131: 'duplicate transaction UID',
  0x0213: 'resource limitation',
};

export function failureReason(code: number | undefined): string {
  if (code === undefined || !Number.isFinite(code)) return 'failure reason not given';
  const hex = `0x${code.toString(16).padStart(4, '0').toUpperCase()}`;
  return `${hex} (${FAILURE_REASONS[code] ?? 'unknown reason'})`;
}

export class CommitmentReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommitmentReportError';
  }
}

export interface CommitmentReport {
  transactionUid: string;
  committed: string[];
  failed: Array<{ sopInstanceUid: string; reason: string }>;
}

type Natural = Record<string, unknown>;

function referencedInstances(sequence: unknown, what: string): Natural[] {
  if (sequence === undefined || sequence === null) return [];
  if (!Array.isArray(sequence)) throw new CommitmentReportError(`${what} is not a sequence`);
  return sequence.map((item, i) => {
    const uid = (item as Natural | null)?.ReferencedSOPInstanceUID;
    if (typeof uid !== 'string' || !isUid(uid.trim())) throw new CommitmentReportError(`${what} item ${i + 1} has no valid Referenced SOP Instance UID`);
    return item as Natural;
  });
}

/** Reads a storage commitment N-EVENT-REPORT (its event type and dataset, dcmjs-dimse's natural form). */
export function readCommitmentReport(eventTypeId: number | undefined, dataset: Natural): CommitmentReport {
  if (eventTypeId !== EVENT_ALL_COMMITTED && eventTypeId !== EVENT_FAILURES) throw new CommitmentReportError(`event type ${String(eventTypeId)} is not a storage commitment result (1 or 2)`);
  const transactionUid = typeof dataset.TransactionUID === 'string' ? dataset.TransactionUID.trim() : '';
  if (!isUid(transactionUid)) throw new CommitmentReportError('the report has no valid Transaction UID');
  const committed = referencedInstances(dataset.ReferencedSOPSequence, 'Referenced SOP Sequence').map((i) => String(i.ReferencedSOPInstanceUID).trim());
  const failed = referencedInstances(dataset.FailedSOPSequence, 'Failed SOP Sequence').map((i) => ({
    sopInstanceUid: String(i.ReferencedSOPInstanceUID).trim(),
    reason: failureReason(typeof i.FailureReason === 'number' ? i.FailureReason : undefined),
  }));
  if (eventTypeId === EVENT_FAILURES && failed.length === 0) throw new CommitmentReportError('event type 2 (failures exist) without a Failed SOP Sequence');
  return { transactionUid, committed, failed };
}

export interface CommitmentRequestOptions {
  pacs: PacsEndpoint;
  callingAeTitle: string;
  tls?: ConnectionOptions;
  timeoutMs: number;
  /** Keep the association this long after the PACS's answer, for a report sent on it; 0 by default. */
  lingerMs?: number;
  /** A report the PACS sent on this association; must make it durable, returns the N-EVENT-REPORT status. */
  onReport?(eventTypeId: number | undefined, dataset: Natural): number;
}

/** Sends one N-ACTION request naming `objects`; resolves once the PACS answered Success. */
export function requestCommitment(options: CommitmentRequestOptions, transactionUid: string, objects: ReadonlyArray<{ sopClassUid: string; sopInstanceUid: string }>): Promise<void> {
  const { pacs } = options;
  return new Promise<void>((resolve, reject) => {
    const client = new Client();
    const request = new requests.NActionRequest(STORAGE_COMMITMENT_PUSH, STORAGE_COMMITMENT_INSTANCE, REQUEST_ACTION);
    request.setDataset(new Dataset({
      TransactionUID: transactionUid,
      ReferencedSOPSequence: objects.map((o) => ({ ReferencedSOPClassUID: o.sopClassUid, ReferencedSOPInstanceUID: o.sopInstanceUid })),
    }));
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const where = `${pacs.aeTitle}@${pacs.host}:${pacs.port}`;
    const timer = setTimeout(() => finish(new DicomTimeoutError(options.timeoutMs, 'storage commitment request')), options.timeoutMs);
    request.on('response', (response: InstanceType<typeof responses.NActionResponse>) => {
      const status = response.getStatus();
      if (status === 0x0000) finish();
      else finish(new CommitmentRequestError(status, response.getErrorComment?.() ?? undefined, where));
    });
    client.on('nEventReportRequest', (report: RequestTypes.NEventReportRequest, callback: (response: InstanceType<typeof responses.NEventReportResponse>) => void) => {
      const answer = responses.NEventReportResponse.fromRequest(report);
      answer.setStatus(options.onReport ? options.onReport(report.getEventTypeId(), (report.getDataset()?.getElements() ?? {}) as Natural) : PROCESSING_FAILURE);
      callback(answer);
    });
    client.on('associationRejected', (result: { reason: number }) => finish(new CommitmentRequestError(undefined, `association rejected (reason ${result.reason})`, where)));
    client.on('networkError', (err: Error) => finish(new DicomConnectionError(`${where}: ${err.message}`, false)));
    client.on('closed', () => finish(new DicomConnectionError(`${where}: the association closed before the PACS answered the request`, true)));
    client.addRequest(request);
    const security = options.tls as Record<string, unknown> | undefined;
    client.send(pacs.host, pacs.port, options.callingAeTitle, pacs.aeTitle, {
      associationLingerTimeout: options.lingerMs ?? 0,
      connectTimeout: options.timeoutMs,
      ...(security ? { securityOptions: security } : {}),
    });
  });
}

/** The PACS refused the request (a failure status, or the association). */
export class CommitmentRequestError extends Error {
  constructor(readonly status: number | undefined, comment: string | undefined, where: string) {
    const hex = status === undefined ? '' : ` status 0x${status.toString(16).padStart(4, '0').toUpperCase()}`;
    super(`${where} refused the storage commitment request:${hex}${comment ? ` ${comment}` : ''}`);
    this.name = 'CommitmentRequestError';
  }
}

export interface CommitmentEvent {
  destination: string;
  outboundId: number;
  /** The imaging event the object came with. */
  resultId?: string;
  sopInstanceUid: string;
  state: 'requested' | 'committed' | 'resent' | 'failed';
  transactionUid?: string;
  reason?: string;
  at: number;
}

export interface StorageCommitterOptions {
  store: Store;
  destination: string;
  pacs: PacsEndpoint;
  callingAeTitle: string;
  tls?: ConnectionOptions;
  /** Objects accepted within this long go in one request; 2 s. */
  batchMs?: number;
  /** A request without a report after this long is made again; 1 h. */
  overdueMs?: number;
  /** Requests for one object (failed or overdue, counted) before the hub gives up; 3. */
  maxRequests?: number;
  /** How long the PACS has to answer the request itself; 30 s. */
  requestTimeoutMs?: number;
  /** After a request that did not reach the PACS, wait this long; 30 s. */
  retryMs?: number;
  clock?: Clock;
}

/** At most this many objects in one request. */
const BATCH_LIMIT = 500;
const SAME_ASSOCIATION_WAIT_MS = 1000;
const PROCESSING_FAILURE = 0x0110;
/** Committers of this process by destination: a report received anywhere finds its own. */
const committers = new Map<string, StorageCommitter>();

/**
 * One PACS's storage commitment. Events: 'commitment' (CommitmentEvent, after it is durable),
 * 'error' (Error: a request that did not reach the PACS; it is made again).
 */
export class StorageCommitter extends EventEmitter {
  private readonly clock: Clock;
  private readonly batchMs: number;
  private readonly overdueMs: number;
  readonly maxRequests: number;
  private timer: unknown;
  private running = false;
  private inFlight: Promise<void> | undefined;
  lastError: string | undefined;

  constructor(private readonly options: StorageCommitterOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.batchMs = options.batchMs ?? 2000;
    this.overdueMs = options.overdueMs ?? 3_600_000;
    this.maxRequests = options.maxRequests ?? 3;
  }

  get destination(): string {
    return this.options.destination;
  }

  start(): void {
    this.running = true;
    committers.set(this.destination, this);
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (committers.get(this.destination) === this) committers.delete(this.destination);
    this.clock.clearTimeout(this.timer);
    await this.inFlight;
  }

  /**
   * The DeliveryWorker's onAccepted: the PACS accepted this object, its commitment is now owed.
   * Runs inside the acceptance's transaction.
   */
  objectAccepted(message: OutboundMessage, now: number): void {
    const request = JSON.parse(message.payload.toString('utf8')) as ForwardRequest;
    this.options.store.commitments().await({ outboundId: message.id, destination: this.destination, sopClassUid: request.sopClassUid, sopInstanceUid: request.sopInstanceUid }, now);
    if (this.running) this.schedule(this.batchMs);
  }

  /** A report on the request's own association: applied as one that came to the hub's SCP. */
  private reportOnRequest(eventTypeId: number | undefined, dataset: Natural): number {
    try {
      return applyCommitmentReport(this.options.store, eventTypeId, dataset, { channel: `dicom-commitment:${this.destination}`, peer: `${this.options.pacs.host}:${this.options.pacs.port}`, now: this.clock.now() }).status;
    } catch (err) {
      this.emit('error', err);
      return PROCESSING_FAILURE;
    }
  }

  /** @internal A report settled these objects of ours (already durable). */
  settled(events: CommitmentEvent[]): void {
    for (const event of events) this.emit('commitment', event);
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.inFlight = this.round().finally(() => { this.inFlight = undefined; });
    }, ms);
  }

  /** One request for what is due (waiting, or overdue), then the next look. */
  private async round(): Promise<void> {
    const { store, destination } = this.options;
    const now = this.clock.now();
    const commitments = store.commitments();
    const due = commitments.due(destination, now - this.overdueMs, BATCH_LIMIT);
    const ask: CommitmentItem[] = [];
    for (const item of due) {
      if (item.requests < this.maxRequests) ask.push(item);
      else {
        const reason = item.reason ?? `no report after ${item.requests} requests`;
        commitments.giveUp(item.outboundId, reason, now);
        this.emit('commitment', describe(store, { ...item, reason }, 'failed', now));
      }
    }
    let next = Math.min(this.overdueMs, 60_000);
    if (ask.length > 0) {
      const uid = uuidUid();
      commitments.requested(ask.map((i) => i.outboundId), uid, now);
      // Told before it leaves: the PACS's report may come before its answer to the request.
      for (const item of ask) this.emit('commitment', describe(store, { ...item, transactionUid: uid }, 'requested', now));
      try {
        await requestCommitment({
          ...this.options,
          timeoutMs: this.options.requestTimeoutMs ?? 30_000,
          // A PACS that answers on this association does so at once: give it a moment before the release.
          lingerMs: SAME_ASSOCIATION_WAIT_MS,
          onReport: (eventTypeId, dataset) => this.reportOnRequest(eventTypeId, dataset),
        }, uid, ask);
        this.lastError = undefined;
        if (ask.length === BATCH_LIMIT) next = 0;
      } catch (err) {
        commitments.unrequested(ask.map((i) => i.outboundId), this.clock.now());
        this.lastError = (err as Error).message;
        this.emit('error', err);
        next = this.options.retryMs ?? 30_000;
      }
    }
    this.schedule(next);
  }

}

export const COMMITMENT_REPORT_CONTENT_TYPE = 'application/vnd.passerelle.dicom-commitment-report+json';

export interface ReportContext {
  /** The journal channel the report is kept under, and who sent it. */
  channel: string;
  peer?: string;
  now: number;
}

/**
 * Journals a PACS's report and applies it, in one commit: committed objects are done; a failed
 * one is stored again (its outbound message re-queued, same control id) unless it was already
 * asked for `maxRequests` times. Returns the N-EVENT-REPORT status to answer: Success, or 0x0110
 * (processing failure) for a report of no transaction of this hub. A report that does not read
 * is journaled as rejected and throws CommitmentReportError.
 */
export function applyCommitmentReport(store: Store, eventTypeId: number | undefined, dataset: Natural, context: ReportContext): { status: number; report: CommitmentReport; events: CommitmentEvent[] } {
  const { channel, peer, now } = context;
  const raw = Buffer.from(JSON.stringify({ eventTypeId, dataset }));
  let report: CommitmentReport;
  try {
    report = readCommitmentReport(eventTypeId, dataset);
  } catch (err) {
    store.journalInbound({ channel, peer, contentType: COMMITMENT_REPORT_CONTENT_TYPE, raw, status: 'rejected', error: (err as Error).message });
    throw err;
  }
  const events: CommitmentEvent[] = [];
  const wake = new Set<string>();
  const outcome = store.transaction(() => {
    store.journalInbound({ channel, peer, contentType: COMMITMENT_REPORT_CONTENT_TYPE, raw, status: 'accepted' });
    const settled = store.commitments().report(report.transactionUid, report.committed, report.failed, now);
    for (const item of settled.failed) {
      const committer = committers.get(item.destination);
      const again = item.requests < (committer?.maxRequests ?? 3);
      if (again) {
        store.resend(item.outboundId);
        store.commitments().resent(item.outboundId, item.reason ?? 'failed', now);
        wake.add(item.destination);
      }
      events.push(describe(store, item, again ? 'resent' : 'failed', now));
    }
    for (const item of settled.committed) events.push(describe(store, item, 'committed', now));
    return settled;
  });
  for (const destination of wake) kickDestination(destination);
  const byDestination = new Map<string, CommitmentEvent[]>();
  for (const event of events) byDestination.set(event.destination, [...(byDestination.get(event.destination) ?? []), event]);
  for (const [destination, list] of byDestination) committers.get(destination)?.settled(list);
  return { status: outcome.known ? 0x0000 : PROCESSING_FAILURE, report, events };
}

function describe(store: Store, item: CommitmentItem, state: CommitmentEvent['state'], at: number): CommitmentEvent {
  const message = store.getOutbound(item.outboundId);
  const event: CommitmentEvent = { destination: item.destination, outboundId: item.outboundId, sopInstanceUid: item.sopInstanceUid, state, at };
  if (message?.resultId !== undefined) event.resultId = message.resultId;
  if (item.transactionUid !== undefined) event.transactionUid = item.transactionUid;
  if (item.reason !== undefined && state !== 'committed') event.reason = item.reason;
  return event;
}
