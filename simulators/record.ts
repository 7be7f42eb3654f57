/**
 * A simulated patient record: an MLLP listener that answers each HL7 message with an ACK
 * (AA by default; AE, AR, silence or a slow answer on request) and keeps what it got.
 * `npm run sim:ehr -- --port 2576 --answer AE --delay 2000` for demos; tests use it as a library.
 */
import { buildAck, decodeMessage, encodeMessage, Hl7Message, MllpServer, type Hl7Charset } from '../adapters/hl7';

export type RecordAnswer = 'AA' | 'AE' | 'AR' | 'silent';

export interface ReceivedMessage {
  controlId: string;
  messageType: string;
  charset: string;
  text: string;
  bytes: Buffer;
  peer: string;
}

export interface SimulatedRecordOptions {
  host?: string;
  port?: number;
  answer?: RecordAnswer;
  delayMs?: number;
  onMessage?: (message: ReceivedMessage) => void;
}

export class SimulatedRecord {
  readonly received: ReceivedMessage[] = [];
  answer: RecordAnswer;
  delayMs: number;
  private readonly server: MllpServer;
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];
  port = 0;

  constructor(private readonly options: SimulatedRecordOptions = {}) {
    this.answer = options.answer ?? 'AA';
    this.delayMs = options.delayMs ?? 0;
    this.server = new MllpServer({ host: options.host ?? '127.0.0.1', port: options.port ?? 0, handler: (m) => this.handle(m.bytes, m.peer) });
  }

  async start(): Promise<this> {
    this.port = await this.server.listen();
    return this;
  }

  stop(): Promise<void> {
    return this.server.close();
  }

  /** Resolves once `count` messages in all have arrived. */
  waitFor(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  private async handle(bytes: Buffer, peer: string): Promise<Buffer> {
    const { text, charset } = decodeMessage(bytes);
    const message = Hl7Message.parse(text);
    const received = { controlId: message.controlId, messageType: message.messageType, charset, text, bytes, peer };
    this.received.push(received);
    this.options.onMessage?.(received);
    for (const waiter of this.waiters.filter((w) => this.received.length >= w.count)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.answer === 'silent') return new Promise<Buffer>(() => undefined); // never answers
    const ack = buildAck(message, this.answer, {
      sendingApplication: 'SIM-EHR',
      sendingFacility: 'SIM',
      controlId: `SIM${this.received.length}`,
      text: this.answer === 'AA' ? undefined : `simulated ${this.answer}`,
    });
    return encodeMessage(ack, (charset === '8859/1' ? '8859/1' : 'UNICODE UTF-8') as Hl7Charset).bytes;
  }
}

function argument(name: string, fallback?: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

async function main(): Promise<void> {
  const answer = (argument('answer', 'AA') ?? 'AA').toUpperCase();
  if (!['AA', 'AE', 'AR', 'SILENT'].includes(answer)) throw new Error(`--answer ${answer}: expected AA, AE, AR or silent`);
  const record = await new SimulatedRecord({
    host: argument('host', '127.0.0.1'),
    port: Number(argument('port', '2576')),
    answer: (answer === 'SILENT' ? 'silent' : answer) as RecordAnswer,
    delayMs: Number(argument('delay', '0')),
    onMessage: (m) => {
      console.log(`--- ${new Date().toISOString()} ${m.messageType} control id ${m.controlId} (${m.charset}, ${m.bytes.length} bytes, from ${m.peer})`);
      console.log(m.text.replace(/\r/g, '\n'));
    },
  }).start();
  console.log(`simulated record listening on MLLP port ${record.port}, answering ${record.answer}${record.delayMs ? ` after ${record.delayMs} ms` : ''}`);
  const stop = () => void record.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`sim:ehr: ${(err as Error).message}`);
    process.exit(2);
  });
}
