/**
 * A C-STORE SCU that sends stored Part 10 files to a PACS, one association per object: the
 * file's own transfer syntax is proposed (never transcoded) and its dataset is streamed from disk
 * in P-DATA-TF PDUs, so the PACS gets the very bytes the modality sent. It is the Transport of a
 * DeliveryWorker: the outcome of each send is an AckInfo (AA success or warning, AE/AR refusal)
 * or a DicomConnectionError / DicomTimeoutError, which the worker counts and retries.
 */
import { EventEmitter } from 'node:events';
import { open, type FileHandle } from 'node:fs/promises';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import type { AckCode, AckInfo, Transport } from '../delivery/transport';
import { readMetaHeader, type Part10Layout } from './part10';
import { abortPdu, associateRq, commandSet, PDU, PduReader, pDataTf, readAssociateAc, readCommandSet, readPDataTf, releaseRq } from './pdu';

export interface PacsEndpoint {
  aeTitle: string;
  host: string;
  port: number;
}

export interface StoreScuOptions {
  pacs: PacsEndpoint;
  callingAeTitle: string;
  tls?: ConnectionOptions;
}

/** What the outbound queue holds for one object: where its file is. */
export interface ForwardRequest {
  path: string;
  sopClassUid: string;
  sopInstanceUid: string;
  eventId?: string;
}

/** The PACS could not be reached, or the connection broke; `sent`: the dataset had started to leave. */
export class DicomConnectionError extends Error {
  constructor(message: string, readonly sent: boolean) {
    super(message);
    this.name = 'DicomConnectionError';
  }
}

export class DicomTimeoutError extends Error {
  constructor(ms: number, stage: string) {
    super(`no answer from the PACS within ${ms} ms (${stage})`);
    this.name = 'DicomTimeoutError';
  }
}

/** The stored file is gone or is not Part 10: no retry will help. */
export class DicomFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DicomFileError';
  }
}

const REJECT_REASONS: Record<string, string> = {
  '1:1': 'no reason given',
  '1:2': 'application context not supported',
  '1:3': 'calling AE title not recognized',
  '1:7': 'called AE title not recognized',
  '2:1': 'no reason given',
  '2:2': 'protocol version not supported',
  '3:1': 'temporary congestion',
  '3:2': 'local limit exceeded',
};
const CONTEXT_RESULTS = ['accepted', 'user rejection', 'no reason', 'abstract syntax not supported', 'transfer syntax not supported'];
const COMMAND_FIELD = 0x0100;
const STATUS = 0x0900;
const ERROR_COMMENT = 0x0902;
const MAX_CHUNK = 1024 * 1024;
const RELEASE_WAIT_MS = 5000;

/** C-STORE status → acknowledgement: success and warnings are AA; out of resources AE; the rest AR (PS3.4 B.2.3). */
export function ackCodeForStatus(status: number): AckCode {
  if (status === 0x0000 || status === 0x0001 || (status & 0xf000) === 0xb000) return 'AA';
  if ((status & 0xff00) === 0xa700) return 'AE';
  return 'AR';
}

export class StoreScu extends EventEmitter implements Transport {
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: StoreScuOptions) {
    super();
  }

  async send(payload: Buffer, controlId: string, timeoutMs: number): Promise<AckInfo> {
    const request = JSON.parse(payload.toString('utf8')) as ForwardRequest;
    let file: FileHandle;
    try {
      file = await open(request.path, 'r');
    } catch (err) {
      throw new DicomFileError(`the stored file cannot be read: ${(err as Error).message}`);
    }
    try {
      const { size } = await file.stat();
      const head = Buffer.alloc(Math.min(size, 64 * 1024));
      await file.read(head, 0, head.length, 0);
      let layout: Part10Layout;
      try {
        layout = readMetaHeader(head);
      } catch (err) {
        throw new DicomFileError((err as Error).message);
      }
      return await this.associate(file, layout, size, controlId, timeoutMs);
    } finally {
      await file.close();
    }
  }

  /** Drops any association in progress (their sends fail as connection errors). */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
  }

  private associate(file: FileHandle, layout: Part10Layout, size: number, controlId: string, timeoutMs: number): Promise<AckInfo> {
    const { pacs, callingAeTitle, tls } = this.options;
    return new Promise<AckInfo>((resolve, reject) => {
      const socket: Socket = tls ? connectTls({ ...tls, host: pacs.host, port: pacs.port }) : connectTcp({ host: pacs.host, port: pacs.port });
      this.sockets.add(socket);
      socket.setNoDelay(true);
      const reader = new PduReader();
      let stage = 'connecting';
      let datasetStarted = false;
      let settled = false;
      let response: Buffer[] = [];
      let onRelease: (() => void) | undefined;

      const finish = (outcome: { ack: AckInfo } | { error: Error }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if ('ack' in outcome) resolve(outcome.ack);
        else reject(outcome.error);
      };
      const closeSocket = () => {
        this.sockets.delete(socket);
        socket.destroy();
      };
      /** Ends the association politely, then settles (an answer is an answer even if the release fails). */
      const release = (ack: AckInfo) => {
        // The answer is in: a timeout from here on would discard it.
        clearTimeout(timer);
        stage = 'release';
        const done = () => {
          clearTimeout(wait);
          closeSocket();
          finish({ ack });
        };
        const wait = setTimeout(done, RELEASE_WAIT_MS);
        onRelease = done;
        socket.write(releaseRq());
      };
      const ack = (code: AckCode, text: string, raw: Buffer): AckInfo => ({ code, controlId, text, raw });
      const timer = setTimeout(() => {
        socket.write(abortPdu());
        closeSocket();
        finish({ error: new DicomTimeoutError(timeoutMs, stage) });
      }, timeoutMs);

      socket.once(tls ? 'secureConnect' : 'connect', () => {
        stage = 'association';
        socket.write(associateRq(pacs.aeTitle, callingAeTitle, [{ id: 1, abstractSyntax: layout.sopClassUid, transferSyntaxes: [layout.transferSyntaxUid] }]));
      });
      socket.on('error', (err) => {
        closeSocket();
        finish({ error: new DicomConnectionError(`${pacs.host}:${pacs.port}: ${err.message}`, datasetStarted) });
      });
      socket.on('close', () => {
        this.sockets.delete(socket);
        if (onRelease) return onRelease();
        finish({ error: new DicomConnectionError(`${pacs.host}:${pacs.port}: the PACS closed the connection (${stage})`, datasetStarted) });
      });
      socket.on('data', (chunk: Buffer) => {
        for (const pdu of reader.push(chunk)) {
          if (pdu.type === PDU.ASSOCIATE_AC) {
            const accepted = readAssociateAc(pdu.body);
            const context = accepted.contexts.find((c) => c.id === 1);
            if (!context || context.result !== 0) {
              release(ack('AR', `the PACS does not accept ${layout.sopClassUid} in ${layout.transferSyntaxUid} (${CONTEXT_RESULTS[context?.result ?? 2] ?? 'refused'})`, pdu.body));
              return;
            }
            stage = 'sending';
            datasetStarted = true;
            this.sendObject(socket, file, layout, size, accepted.maxPduLength).catch((err: Error) => {
              closeSocket();
              finish({ error: new DicomConnectionError(`${pacs.host}:${pacs.port}: ${err.message}`, true) });
            });
          } else if (pdu.type === PDU.ASSOCIATE_RJ) {
            const [result, source, reason] = [pdu.body.readUInt8(1), pdu.body.readUInt8(2), pdu.body.readUInt8(3)];
            const why = REJECT_REASONS[`${source}:${reason}`] ?? `source ${source}, reason ${reason}`;
            closeSocket();
            finish({ ack: ack(result === 1 ? 'AR' : 'AE', `association rejected${result === 1 ? '' : ' (transient)'}: ${why}`, pdu.body) });
          } else if (pdu.type === PDU.DATA_TF) {
            for (const pdv of readPDataTf(pdu.body)) {
              if (!pdv.command) continue;
              response.push(pdv.value);
              if (!pdv.last) continue;
              const command = readCommandSet(Buffer.concat(response));
              response = [];
              if (command.get(COMMAND_FIELD)?.readUInt16LE(0) !== 0x8001) continue;
              const status = command.get(STATUS)?.readUInt16LE(0) ?? 0xffff;
              const comment = command.get(ERROR_COMMENT)?.toString('latin1').replace(/[\0 ]+$/, '');
              const hex = `0x${status.toString(16).padStart(4, '0').toUpperCase()}`;
              release(ack(ackCodeForStatus(status), comment ? `C-STORE status ${hex}: ${comment}` : `C-STORE status ${hex}`, Buffer.concat([...command.values()])));
            }
          } else if (pdu.type === PDU.RELEASE_RP) {
            onRelease?.();
          } else if (pdu.type === PDU.ABORT) {
            closeSocket();
            finish({ error: new DicomConnectionError(`${pacs.host}:${pacs.port}: the PACS aborted the association (${stage})`, datasetStarted) });
          }
        }
      });
    });
  }

  /** The C-STORE-RQ command, then the dataset straight from the file, one PDV per PDU, at the socket's pace. */
  private async sendObject(socket: Socket, file: FileHandle, layout: Part10Layout, size: number, peerMaxPdu: number): Promise<void> {
    const command = commandSet([
      [0x0002, 'UI', layout.sopClassUid],
      [0x0100, 'US', 0x0001],
      [0x0110, 'US', 1],
      [0x0700, 'US', 0],
      [0x0800, 'US', 0x0000],
      [0x1000, 'UI', layout.sopInstanceUid],
    ]);
    const write = (buffers: Buffer[]) => new Promise<void>((resolve) => {
      if (socket.write(Buffer.concat(buffers))) resolve();
      else socket.once('drain', resolve);
    });
    await write(pDataTf(1, true, true, command));
    const chunkSize = Math.min(peerMaxPdu > 6 ? peerMaxPdu - 6 : MAX_CHUNK, MAX_CHUNK);
    let position = layout.datasetOffset;
    if (position >= size) {
      await write(pDataTf(1, false, true, Buffer.alloc(0)));
      return;
    }
    while (position < size) {
      if (socket.destroyed) throw new Error('the connection closed while sending');
      const length = Math.min(chunkSize, size - position);
      const chunk = Buffer.alloc(length);
      const { bytesRead } = await file.read(chunk, 0, length, position);
      if (bytesRead !== length) throw new Error('the stored file changed while being sent');
      position += length;
      await write(pDataTf(1, false, position >= size, chunk));
    }
  }
}
