/**
 * The Storage SCP: a DICOM listener (plain TCP or TLS) that answers C-ECHO and receives C-STORE
 * for the classes and transfer syntaxes in uids.ts. Each object is streamed to disk behind the
 * meta header the hub writes, fsynced (durability 'power-loss'), checked whole with its header read, moved to its place and
 * handed to onStored (which journals it); only then does the modality get Success. What cannot be
 * kept whole is moved aside under rejected/, handed to onRejected, and refused with a failure
 * status; the modality keeps its copy and may send again.
 */
import { EventEmitter } from 'node:events';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { createServer as createTcpServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { Dataset, Scp, constants, log, responses, type association, type requests } from 'dcmjs-dimse';
import { ObjectFile, placeWithoutOverwrite } from './object-file';
import { readObjectHeader, UnreadableObjectError, type ObjectHeader } from './header';
import { chooseTransferSyntax, isUid, uuidUid, STORAGE_CLASSES, VERIFICATION, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from './uids';
import { MODALITY_WORKLIST_FIND, type NaturalDataset } from './worklist';
import { MODALITY_PERFORMED_PROCEDURE_STEP } from './mpps';
import { STORAGE_COMMITMENT_PUSH } from './storage-commitment';

// dcmjs-dimse logs every PDU at info level to the console; the hub reports what matters itself.
log.setLevel('error');

const { PresentationContextResult, RejectResult, RejectSource, RejectReason, Status } = constants;
const { CEchoResponse, CStoreResponse, CFindResponse, NCreateResponse, NSetResponse, NEventReportResponse } = responses;

/** C-STORE failure statuses (PS3.4 GG.4-1). */
const OUT_OF_RESOURCES = 0xa700;
const DATASET_MISMATCH = 0xa900;
const CANNOT_UNDERSTAND = 0xc000;
/** C-FIND: unable to process (PS3.4 C.4.1.1.4); N-CREATE/N-SET: processing failure (PS3.7 C.4.1). */
const UNABLE_TO_PROCESS = 0xc000;
const PROCESSING_FAILURE = 0x0110;

export interface StorageScpOptions {
  aeTitle: string;
  host: string;
  port: number;
  /** Calling AE titles let in; empty: any. */
  callingAeTitles?: readonly string[];
  tls?: TlsOptions;
  /** Where files go: <dir>/<YYYY-MM-DD>/<SOP instance UID>.dcm, refused bytes under <dir>/rejected/. */
  dir: string;
  /**
   * As the journal's: 'power-loss' (the default here) fsyncs each file and its directory before the
   * modality hears Success; 'process-crash' leaves them to the OS, which keeps them if the hub is
   * killed but not through a power cut — the journal entry pointing at them is no safer then.
   */
  durability?: 'process-crash' | 'power-loss';
  /** Must make the object durable (journal it); resolving lets the modality hear Success. */
  onStored(object: StoredObject): Promise<void> | void;
  /** Must record the refusal (journal it); called before the modality hears the failure. */
  onRejected(object: RejectedObject): void;
  /** Milliseconds without a PDU before the association is aborted; 60 s. */
  pduTimeoutMs?: number;
  /** Modality Worklist C-FIND on the same port: the answers to a query (throwing: the query fails). */
  worklist?(query: NaturalDataset, association: AssociationInfo): NaturalDataset[];
  /**
   * Storage commitment reports (N-EVENT-REPORT) from a PACS the hub asked, on the same port:
   * made durable before the PACS hears the status it returns (throwing: processing failure).
   */
  commitmentReport?(eventTypeId: number | undefined, dataset: NaturalDataset, association: AssociationInfo): number;
  /** MPPS N-CREATE / N-SET on the same port: made durable before the modality hears the status. */
  mpps?: {
    create(mppsUid: string, dataset: NaturalDataset, association: AssociationInfo): { status: number; comment?: string };
    set(mppsUid: string, changes: NaturalDataset, association: AssociationInfo): { status: number; comment?: string };
  };
}

export interface AssociationInfo {
  callingAeTitle: string;
  calledAeTitle: string;
  peer: string;
}

export interface StoredObject extends AssociationInfo {
  path: string;
  size: number;
  sha256: string;
  header: ObjectHeader;
  receivedAt: Date;
}

export interface RejectedObject extends AssociationInfo {
  /** The bytes received, kept aside (absent when none could be written). */
  path?: string;
  size: number;
  sopClassUid?: string;
  sopInstanceUid?: string;
  reason: string;
}

export interface AssociationEvent extends AssociationInfo {
  accepted: boolean;
  reason?: string;
}

/**
 * Events: 'association' (AssociationEvent), 'echo' (AssociationInfo), 'error' (Error, network
 * level), 'serviceError' (Error: a worklist, MPPS or commitment handler failed; the peer heard a failure).
 */
export class StorageScp extends EventEmitter {
  private server: NetServer | undefined;
  private readonly sockets = new Set<Socket>();
  readonly callingAeTitles: ReadonlySet<string>;
  /** @internal fsync files and their directory (durability 'power-loss'). */
  readonly durable: boolean;

  constructor(readonly options: StorageScpOptions) {
    super();
    this.callingAeTitles = new Set((options.callingAeTitles ?? []).map((t) => t.trim()).filter((t) => t !== ''));
    this.durable = (options.durability ?? 'power-loss') === 'power-loss';
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** Resolves once listening; rejects (EADDRINUSE...) otherwise. */
  listen(): Promise<{ port: number }> {
    const onConnection = (socket: Socket) => this.accept(socket);
    const server = this.options.tls ? createTlsServer(this.options.tls, onConnection) : createTcpServer(onConnection);
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.report(err));
        const address = server.address();
        resolve({ port: typeof address === 'object' && address ? address.port : this.options.port });
      });
    });
  }

  /** Stops listening and drops open associations (an object in flight is kept under rejected/). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const scp = new HubScp(socket, this);
    scp.on('networkError', (err: Error) => {
      socket.destroy();
      this.report(err);
    });
  }

  /** @internal */
  report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

interface InFlight {
  file?: ObjectFile;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** Why it cannot be kept, known before its bytes end (the bytes are then discarded). */
  refused?: { status: number; reason: string };
  /** Its last fragment came: from here on it is kept or refused by keep(). */
  complete?: boolean;
  stored?: StoredObject;
  failure?: { status: number; reason: string };
}

/** One association; dcmjs-dimse calls these methods. */
class HubScp extends Scp {
  private info: AssociationInfo;
  private current: InFlight | undefined;

  constructor(private readonly socket: Socket, private readonly owner: StorageScp) {
    super(socket, { pduTimeout: owner.options.pduTimeoutMs ?? 60_000, associationTimeout: 30_000 });
    this.info = { callingAeTitle: '', calledAeTitle: '', peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}` };
    // The association ended with an object half received: keep what came, refuse it.
    const interrupted = (why: string) => () => {
      const inFlight = this.current;
      this.current = undefined;
      if (!inFlight?.file || inFlight.complete) return;
      inFlight.file.destroy();
      void this.setAside(inFlight, `${why} after ${inFlight.file.size} bytes: the object is incomplete`);
    };
    this.on('close', interrupted('the connection closed'));
    this.on('abort', interrupted('the modality aborted the association'));
  }

  override associationRequested(assoc: association.Association): void {
    const { aeTitle } = this.owner.options;
    const allowed = this.owner.callingAeTitles;
    this.info = { ...this.info, callingAeTitle: assoc.getCallingAeTitle().trim(), calledAeTitle: assoc.getCalledAeTitle().trim() };
    const refuse = (reason: number, why: string) => {
      this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, reason);
      this.owner.emit('association', { ...this.info, accepted: false, reason: why });
    };
    if (this.info.calledAeTitle !== aeTitle) return refuse(RejectReason.CalledAeNotRecognized, `called AE title ${this.info.calledAeTitle} is not ${aeTitle}`);
    if (allowed.size > 0 && !allowed.has(this.info.callingAeTitle)) return refuse(RejectReason.CallingAeNotRecognized, `calling AE title ${this.info.callingAeTitle} is not among those accepted`);
    for (const proposed of assoc.getPresentationContexts()) {
      const context = assoc.getPresentationContext(proposed.id);
      const abstract = context.getAbstractSyntaxUid();
      const offered = context.getTransferSyntaxUids();
      const { worklist, mpps, commitmentReport } = this.owner.options;
      const service = abstract === MODALITY_WORKLIST_FIND ? worklist : abstract === MODALITY_PERFORMED_PROCEDURE_STEP ? mpps : abstract === STORAGE_COMMITMENT_PUSH ? commitmentReport : undefined;
      if (abstract === VERIFICATION || service) {
        const syntax = offered.find((ts) => ts === EXPLICIT_VR_LITTLE_ENDIAN || ts === IMPLICIT_VR_LITTLE_ENDIAN);
        if (syntax) context.setResult(PresentationContextResult.Accept, syntax);
        else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
      } else if (abstract in STORAGE_CLASSES) {
        const syntax = chooseTransferSyntax(offered);
        if (syntax) context.setResult(PresentationContextResult.Accept, syntax);
        else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
      } else {
        context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
      }
    }
    this.sendAssociationAccept();
    this.owner.emit('association', { ...this.info, accepted: true });
  }

  /** A-ABORT: handled by the 'abort' listener above (an object in flight is set aside). */
  override abort(): void {}

  override associationReleaseRequested(): void {
    this.sendAssociationReleaseResponse();
  }

  /** Modality Worklist: a Pending response per matching step, then Success (PS3.4 K.4.1.3). */
  override cFindRequest(request: requests.CFindRequest, callback: (responses: Array<InstanceType<typeof CFindResponse>>) => void): void {
    const final = CFindResponse.fromRequest(request);
    const worklist = this.owner.options.worklist;
    try {
      if (!worklist || request.getAffectedSopClassUid() !== MODALITY_WORKLIST_FIND) throw new Error('only the Modality Worklist is queried here');
      const query = (request.getDataset()?.getElements() ?? {}) as NaturalDataset;
      const pending = worklist(query, { ...this.info }).map((answer) => {
        const response = CFindResponse.fromRequest(request);
        response.setDataset(new Dataset(answer));
        response.setStatus(Status.Pending);
        return response;
      });
      final.setStatus(Status.Success);
      callback([...pending, final]);
    } catch (err) {
      final.setStatus(UNABLE_TO_PROCESS);
      final.setErrorComment((err as Error).message.slice(0, 64));
      callback([final]);
      this.owner.emit('serviceError', err);
    }
  }

  /** MPPS N-CREATE: the exam started. A UID the modality leaves to the SCP is made here. */
  override nCreateRequest(request: requests.NCreateRequest, callback: (response: InstanceType<typeof NCreateResponse>) => void): void {
    const response = NCreateResponse.fromRequest(request);
    const uid = (request.getAffectedSopInstanceUid() ?? '').trim() || uuidUid();
    response.setAffectedSopInstanceUid(uid);
    this.performedStep(response, () => this.owner.options.mpps!.create(uid, (request.getDataset()?.getElements() ?? {}) as NaturalDataset, { ...this.info }));
    callback(response);
  }

  /** MPPS N-SET: the exam changed or ended. */
  override nSetRequest(request: requests.NSetRequest, callback: (response: InstanceType<typeof NSetResponse>) => void): void {
    const response = NSetResponse.fromRequest(request);
    const uid = (request.getRequestedSopInstanceUid() ?? '').trim();
    response.setAffectedSopInstanceUid(uid);
    this.performedStep(response, () => this.owner.options.mpps!.set(uid, (request.getDataset()?.getElements() ?? {}) as NaturalDataset, { ...this.info }));
    callback(response);
  }

  /** A PACS's storage commitment report (the hub asked it on another association). */
  override nEventReportRequest(request: requests.NEventReportRequest, callback: (response: InstanceType<typeof NEventReportResponse>) => void): void {
    const response = NEventReportResponse.fromRequest(request);
    try {
      const handle = this.owner.options.commitmentReport;
      if (!handle || request.getAffectedSopClassUid() !== STORAGE_COMMITMENT_PUSH) throw new Error('only storage commitment reports are received here');
      response.setStatus(handle(request.getEventTypeId(), (request.getDataset()?.getElements() ?? {}) as NaturalDataset, { ...this.info }));
    } catch (err) {
      response.setStatus(PROCESSING_FAILURE);
      response.setErrorComment((err as Error).message.slice(0, 64));
      this.owner.emit('serviceError', err);
    }
    callback(response);
  }

  private performedStep(response: { setStatus(status: number): void; setErrorComment(comment: string): void }, handle: () => { status: number; comment?: string }): void {
    try {
      if (!this.owner.options.mpps) throw new Error('MPPS is not served here');
      const outcome = handle();
      response.setStatus(outcome.status);
      if (outcome.comment) response.setErrorComment(outcome.comment.slice(0, 64));
    } catch (err) {
      response.setStatus(PROCESSING_FAILURE);
      response.setErrorComment((err as Error).message.slice(0, 64));
      this.owner.emit('serviceError', err);
    }
  }

  override cEchoRequest(request: requests.CEchoRequest, callback: (response: InstanceType<typeof CEchoResponse>) => void): void {
    const response = CEchoResponse.fromRequest(request);
    response.setStatus(Status.Success);
    callback(response);
    this.owner.emit('echo', { ...this.info });
  }

  /** The dataset's bytes go to a file, not to memory; the file is where the meta header says. */
  override createStoreWritableStream(context: association.PresentationContext, request: requests.CStoreRequest): Writable {
    const sopClassUid = (request.getAffectedSopClassUid() ?? '').trim();
    const sopInstanceUid = (request.getAffectedSopInstanceUid() ?? '').trim();
    const transferSyntaxUid = context.getAcceptedTransferSyntaxUid() ?? '';
    const inFlight: InFlight = { sopClassUid, sopInstanceUid, transferSyntaxUid };
    this.current = inFlight;
    if (!isUid(sopInstanceUid) || !isUid(sopClassUid)) {
      inFlight.refused = { status: CANNOT_UNDERSTAND, reason: 'the C-STORE request carries no valid SOP class or instance UID' };
      return discard();
    }
    const file = new ObjectFile({
      dir: join(this.owner.options.dir, new Date().toISOString().slice(0, 10)),
      meta: { sopClassUid, sopInstanceUid, transferSyntaxUid, sourceAeTitle: this.info.callingAeTitle },
      // dcmjs-dimse does not wait for a slow writable: hold the socket instead.
      onPressure: (paused) => (paused ? this.socket.pause() : this.socket.resume()),
      sync: this.owner.durable,
    });
    inFlight.file = file;
    file.on('error', (err: Error) => {
      inFlight.failure ??= { status: OUT_OF_RESOURCES, reason: `cannot write the object to disk: ${err.message}` };
    });
    return file;
  }

  /** Called when the last fragment came: finish the file, check it, keep it, then answer. */
  override createDatasetFromStoreWritableStream(_writable: Writable, _context: association.PresentationContext, callback: (dataset: Dataset) => void): void {
    const inFlight = this.current;
    const done = () => callback(new Dataset({}));
    if (!inFlight?.file) return done();
    inFlight.complete = true;
    const file = inFlight.file;
    // Finished (fsynced), or already failed and closed (a write error): either way it is settled.
    const finished = new Promise<void>((resolve) => {
      if (file.writableFinished || file.closed) return resolve();
      file.once('finish', () => resolve());
      file.once('close', () => resolve());
    });
    finished.then(() => this.keep(inFlight)).then(done, (err: unknown) => {
      inFlight.failure ??= { status: OUT_OF_RESOURCES, reason: (err as Error).message };
      done();
    });
  }

  override cStoreRequest(request: requests.CStoreRequest, callback: (response: InstanceType<typeof CStoreResponse>) => void): void {
    const inFlight = this.current;
    this.current = undefined;
    const response = CStoreResponse.fromRequest(request);
    const failure = inFlight?.refused ?? inFlight?.failure;
    if (inFlight && !inFlight.stored && failure) {
      response.setStatus(failure.status);
      response.setErrorComment(failure.reason.slice(0, 64));
      if (inFlight.refused) this.rejected({ ...this.info, size: 0, sopClassUid: inFlight.sopClassUid, sopInstanceUid: inFlight.sopInstanceUid, reason: failure.reason });
    } else {
      response.setStatus(inFlight?.stored ? Status.Success : Status.ProcessingFailure);
    }
    callback(response);
  }

  /** The file is whole on disk: read and check its header, move it to its place, have it journaled. */
  private async keep(inFlight: InFlight): Promise<void> {
    const file = inFlight.file!;
    // The disk refused bytes (full?): a partial copy would only take the space others need.
    if (inFlight.failure) return this.setAside(inFlight, inFlight.failure.reason, false);
    let header: ObjectHeader;
    try {
      header = await readObjectHeader(file.tempPath, file.size);
      const v = header.values;
      const missing = (['SOPClassUID', 'SOPInstanceUID', 'StudyInstanceUID', 'SeriesInstanceUID'] as const).filter((k) => !v[k] || !isUid(v[k]!));
      if (missing.length > 0) throw new MismatchError(`the dataset lacks a valid ${missing.join(', ')}`);
      if (v.SOPInstanceUID !== inFlight.sopInstanceUid || v.SOPClassUID !== inFlight.sopClassUid) {
        throw new MismatchError('the dataset\'s SOP class or instance UID differs from the C-STORE request\'s');
      }
    } catch (err) {
      const status = err instanceof MismatchError ? DATASET_MISMATCH : CANNOT_UNDERSTAND;
      inFlight.failure = { status, reason: err instanceof UnreadableObjectError || err instanceof MismatchError ? err.message : `unreadable: ${(err as Error).message}` };
      return this.setAside(inFlight, inFlight.failure.reason);
    }
    let path: string;
    try {
      path = await placeWithoutOverwrite(file.tempPath, join(dirname(file.tempPath), inFlight.sopInstanceUid), this.owner.durable);
    } catch (err) {
      inFlight.failure = { status: OUT_OF_RESOURCES, reason: `cannot write the object to disk: ${(err as Error).message}` };
      return this.setAside(inFlight, inFlight.failure.reason, false);
    }
    const stored: StoredObject = { ...this.info, path, size: file.size, sha256: file.sha256, header, receivedAt: new Date() };
    try {
      await this.owner.options.onStored(stored);
    } catch (err) {
      inFlight.failure = { status: OUT_OF_RESOURCES, reason: `cannot journal the object: ${(err as Error).message}` };
      await unlink(path).catch(() => undefined);
      return;
    }
    inFlight.stored = stored;
  }

  /** Keeps refused bytes under rejected/ (or drops them) and has the refusal journaled. Never throws. */
  private async setAside(inFlight: InFlight, reason: string, keepBytes = true): Promise<void> {
    const file = inFlight.file!;
    const path = keepBytes ? await this.moveToRejected(file.tempPath) : undefined;
    if (!path) await unlink(file.tempPath).catch(() => undefined);
    this.rejected({ ...this.info, path, size: file.size, sopClassUid: inFlight.sopClassUid, sopInstanceUid: inFlight.sopInstanceUid, reason });
  }

  /** Has a refusal journaled; a failing journal is reported, never thrown into dcmjs-dimse. */
  private rejected(object: RejectedObject): void {
    try {
      this.owner.options.onRejected(object);
    } catch (err) {
      this.owner.report(err as Error);
    }
  }

  /** <dir>/rejected/<UID>.<random>.dcm, or undefined when it cannot be moved there. */
  private async moveToRejected(tempPath: string): Promise<string | undefined> {
    try {
      const dir = join(this.owner.options.dir, 'rejected');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const path = join(dir, basename(tempPath).replace(/^\./, '').replace(/\.part$/, '.dcm'));
      await rename(tempPath, path);
      return path;
    } catch {
      return undefined;
    }
  }
}

class MismatchError extends Error {}

/** A sink for bytes refused before they end: nothing written, nothing kept. */
function discard(): Writable {
  return new Writable({ write: (_chunk, _enc, cb) => cb() });
}
