/** MLLP over real loopback sockets: our server and client, and raw peers that misbehave on purpose. */
import { expect } from 'chai';
import * as net from 'node:net';
import {
  buildAck, decodeMessage, encodeMessage, frame, Hl7Message, MllpClient, MllpConnectionError, MllpDecoder, MllpFrameError, MllpServer,
  MllpTimeoutError, type AckInfo, type MllpFrameErrorEvent,
} from '../../../adapters/hl7';
import { freePort, once, tempDir } from '../../support/net';
import { makeCertificate } from '../../support/certificate';

const HOST = '127.0.0.1';

function message(controlId: string, name = 'NOËL^Hélène'): string {
  return `MSH|^~\\&|YUMIZEN|LAB|PASSERELLE|CSO|20261123094110+0100||ORU^R01^ORU_R01|${controlId}|P|2.5||||||UNICODE UTF-8\rPID|1||IPP1^^^CSO^PI||${name}\r`;
}
const bytesOf = (controlId: string) => encodeMessage(message(controlId), 'UNICODE UTF-8').bytes;

/** The ACK a record would send for these bytes. */
function ackFor(bytes: Buffer, code: 'AA' | 'AE' = 'AA'): Buffer {
  const m = Hl7Message.parse(decodeMessage(bytes).text);
  return encodeMessage(buildAck(m, code, { sendingApplication: 'DPI', sendingFacility: 'CH', controlId: `A-${m.controlId}` }), 'UNICODE UTF-8').bytes;
}

/** A hand-driven record: calls onMessage for each message; the test decides when and what to answer. */
async function rawRecord(onMessage: (controlId: string, bytes: Buffer, socket: net.Socket) => void): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new MllpDecoder();
    socket.on('data', (chunk) => {
      for (const item of decoder.push(chunk)) {
        if (item instanceof Buffer) onMessage(Hl7Message.parse(decodeMessage(item).text).controlId, item, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections: () => accepted,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}

/** A raw client socket to our server; resolves with the socket once connected. */
async function rawSocket(port: number): Promise<net.Socket> {
  const socket = net.connect(port, HOST);
  await once(socket, 'connect');
  return socket;
}

/** Reads MLLP payloads from a raw socket until `count` arrived. */
function readPayloads(socket: net.Socket, count: number): Promise<Buffer[]> {
  const decoder = new MllpDecoder();
  const payloads: Buffer[] = [];
  return new Promise((resolve) => {
    socket.on('data', (chunk) => {
      for (const item of decoder.push(chunk)) if (item instanceof Buffer) payloads.push(item);
      if (payloads.length >= count) resolve(payloads);
    });
  });
}

describe('hl7 MLLP over loopback sockets', function () {
  this.timeout(20_000);
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function startServer(options: Partial<ConstructorParameters<typeof MllpServer>[0]> = {}): Promise<{ server: MllpServer; port: number; handled: Buffer[] }> {
    const handled: Buffer[] = [];
    const server = new MllpServer({
      host: HOST, port: 0,
      handler: async ({ bytes }) => {
        handled.push(bytes);
        return ackFor(bytes);
      },
      ...options,
    });
    const port = await server.listen();
    cleanup.push(() => server.close());
    return { server, port, handled };
  }

  function client(port: number, options: Partial<ConstructorParameters<typeof MllpClient>[0]> = {}): MllpClient {
    const c = new MllpClient({ host: HOST, port, ...options });
    cleanup.push(() => c.close());
    return c;
  }

  it('round trip: the server hands the exact bytes to its handler and frames its ACK; the client resolves with it', async () => {
    const { server, port, handled } = await startServer();
    const peers: string[] = [];
    server.on('connection', ({ peer }: { peer: string }) => peers.push(peer));
    const c = client(port);
    const latin1 = encodeMessage(message('C-LATIN1', 'CŒURDEROY^Anaïs').replace('UNICODE UTF-8', '8859/1'), '8859/1').bytes;
    const ack = await c.send(bytesOf('C-1'), 'C-1', 5000);
    const ack2 = await c.send(latin1, 'C-LATIN1', 5000);
    expect(ack).to.deep.include({ code: 'AA', controlId: 'C-1' });
    expect(ack.raw).to.be.instanceOf(Buffer);
    expect(Hl7Message.parse(ack.raw.toString('utf8')).get('MSH-5')).to.equal('YUMIZEN');
    expect(ack2.controlId).to.equal('C-LATIN1');
    expect(handled[0].equals(bytesOf('C-1'))).to.equal(true);
    expect(handled[1].equals(latin1)).to.equal(true);
    expect(peers).to.have.length(1);
    expect(peers[0]).to.match(/^127\.0\.0\.1:\d+$/);
    expect(server.connections).to.equal(1);
  });

  it('handles the messages of one connection one after another, in order', async () => {
    let active = 0;
    let maxActive = 0;
    const order: string[] = [];
    const { port } = await startServer({
      handler: async ({ bytes }) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        const controlId = Hl7Message.parse(decodeMessage(bytes).text).controlId;
        for (let i = 0; i < (Number(controlId.slice(2)) * 7) % 5; i += 1) await new Promise((r) => setImmediate(r)); // uneven work
        order.push(controlId);
        active -= 1;
        return ackFor(bytes);
      },
    });
    const c = client(port);
    const ids = Array.from({ length: 20 }, (_, i) => `C-${i}`);
    const acks = await Promise.all(ids.map((id) => c.send(bytesOf(id), id, 5000)));
    expect(acks.map((a) => a.controlId)).to.deep.equal(ids);
    expect(order).to.deep.equal(ids);
    expect(maxActive).to.equal(1);
  });

  it('matches pipelined ACKs returned in reverse order by control ID', async () => {
    const held: Array<{ bytes: Buffer; socket: net.Socket }> = [];
    const record = await rawRecord((_id, bytes, socket) => {
      held.push({ bytes, socket });
      if (held.length === 5) for (const h of held.reverse()) h.socket.write(frame(ackFor(h.bytes)));
    });
    cleanup.push(record.close);
    const c = client(record.port);
    const ids = ['P-1', 'P-2', 'P-3', 'P-4', 'P-5'];
    const acks = await Promise.all(ids.map((id) => c.send(bytesOf(id), id, 5000)));
    expect(acks.map((a) => a.controlId)).to.deep.equal(ids);
    expect(record.connections()).to.equal(1);
  });

  it('emits a late ACK as lateAck and never credits it to the next message', async () => {
    const pending = new Map<string, { bytes: Buffer; socket: net.Socket }>();
    const record = await rawRecord((id, bytes, socket) => {
      pending.set(id, { bytes, socket });
      if (id === 'LATE-2') {
        // The answer to the first message comes now, just before the second one's.
        socket.write(frame(ackFor(pending.get('LATE-1')!.bytes, 'AE')));
        socket.write(frame(ackFor(bytes)));
      }
    });
    cleanup.push(record.close);
    const c = client(record.port);
    const late: AckInfo[] = [];
    c.on('lateAck', (ack: AckInfo) => late.push(ack));
    const first = await c.send(bytesOf('LATE-1'), 'LATE-1', 150).catch((err: Error) => err);
    expect(first).to.be.instanceOf(MllpTimeoutError);
    expect((first as MllpTimeoutError).controlId).to.equal('LATE-1');
    const lateSeen = once<AckInfo>(c, 'lateAck');
    const second = await c.send(bytesOf('LATE-2'), 'LATE-2', 5000);
    expect(second).to.deep.include({ code: 'AA', controlId: 'LATE-2' });
    const lateAck = await lateSeen;
    expect(lateAck).to.deep.include({ code: 'AE', controlId: 'LATE-1' });
    expect(late.map((a) => a.controlId)).to.deep.equal(['LATE-1']);
  });

  it('reports a frame cut short by a disconnect as frameError with its raw bytes, and does not handle it', async () => {
    const { server, port, handled } = await startServer();
    const socket = await rawSocket(port);
    const partial = Buffer.concat([Buffer.of(0x0b), bytesOf('CUT-1').subarray(0, 40)]);
    const reported = once<MllpFrameErrorEvent>(server, 'frameError');
    const gone = once(server, 'disconnect');
    socket.end(partial);
    const event = await reported;
    await gone;
    expect(event.error).to.be.instanceOf(MllpFrameError);
    expect(event.error.reason).to.equal('truncated');
    expect(event.reason).to.match(/^MLLP truncated: the connection ended inside a block of 40 bytes/);
    expect(event.raw.equals(partial)).to.equal(true);
    expect(event.peer).to.match(/^127\.0\.0\.1:\d+$/);
    expect(handled).to.have.length(0);
  });

  it('reports garbage before a frame, then handles the frame', async () => {
    const { server, port } = await startServer();
    const socket = await rawSocket(port);
    cleanup.push(() => { socket.destroy(); });
    const reported = once<MllpFrameErrorEvent>(server, 'frameError');
    const acks = readPayloads(socket, 1);
    socket.write(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n\r\n'), frame(bytesOf('AFTER-GARBAGE'))]));
    const event = await reported;
    expect(event.error.reason).to.equal('garbage');
    expect(event.raw.toString()).to.equal('GET / HTTP/1.1\r\n\r\n');
    const [ack] = await acks;
    expect(Hl7Message.parse(ack.toString()).get('MSA-2')).to.equal('AFTER-GARBAGE');
  });

  it('reports an oversize frame with its first bytes, then handles the next one', async () => {
    const { server, port, handled } = await startServer({ maxMessageBytes: 1024 });
    const socket = await rawSocket(port);
    cleanup.push(() => { socket.destroy(); });
    const big = encodeMessage(message('BIG-1') + `NTE|1||${'x'.repeat(4000)}\r`, 'UNICODE UTF-8').bytes;
    const reported = once<MllpFrameErrorEvent>(server, 'frameError');
    const acks = readPayloads(socket, 1);
    socket.write(Buffer.concat([frame(big), frame(bytesOf('SMALL-1'))]));
    const event = await reported;
    expect(event.error.reason).to.equal('oversize');
    expect(event.raw).to.have.length(1025);
    expect(event.raw.subarray(1).equals(big.subarray(0, 1024))).to.equal(true);
    const [ack] = await acks;
    expect(Hl7Message.parse(ack.toString()).get('MSA-2')).to.equal('SMALL-1');
    expect(handled).to.have.length(1);
  });

  describe('over TLS, with a self-signed certificate made by openssl for the test', () => {
    let cert: Buffer;
    let key: Buffer;
    let remove: () => void;

    before(() => {
      const dir = tempDir('passerelle-hl7-tls-');
      remove = dir.remove;
      ({ cert, key } = makeCertificate(dir.dir));
    });
    after(() => remove());

    it('round trip with a server certificate the client trusts', async () => {
      const { port, handled } = await startServer({ tls: { key, cert } });
      const c = client(port, { tls: { ca: cert } });
      const ack = await c.send(bytesOf('TLS-1'), 'TLS-1', 5000);
      expect(ack).to.deep.include({ code: 'AA', controlId: 'TLS-1' });
      expect(handled[0].equals(bytesOf('TLS-1'))).to.equal(true);
    });

    it('round trip with client certificates required (mutual TLS)', async () => {
      const { port } = await startServer({ tls: { key, cert, ca: cert, requestCert: true, rejectUnauthorized: true } });
      const c = client(port, { tls: { ca: cert, key, cert } });
      expect((await c.send(bytesOf('MTLS-1'), 'MTLS-1', 5000)).controlId).to.equal('MTLS-1');
    });

    it('refuses a server the client does not trust: MllpConnectionError, nothing sent', async () => {
      const { server, port, handled } = await startServer({ tls: { key, cert } });
      server.on('tlsError', () => undefined);
      const c = client(port, { tls: {} });
      const err = await c.send(bytesOf('TLS-2'), 'TLS-2', 5000).catch((e: Error) => e);
      expect(err).to.be.instanceOf(MllpConnectionError);
      expect((err as MllpConnectionError).sent).to.equal(false);
      expect((err as Error).message).to.match(/cannot connect to 127\.0\.0\.1:\d+: self[- ]signed certificate/);
      expect(handled).to.have.length(0);
    });
  });

  it('rejects with MllpConnectionError (sent: false) when nothing listens', async () => {
    const port = await freePort();
    const c = client(port);
    const err = await c.send(bytesOf('NOBODY'), 'NOBODY', 5000).catch((e: Error) => e);
    expect(err).to.be.instanceOf(MllpConnectionError);
    expect(err).to.deep.include({ sent: false, controlId: 'NOBODY' });
    expect((err as Error).message).to.match(/ECONNREFUSED/);
  });

  it('rejects with MllpConnectionError (sent: true) when the peer drops before the ACK, and reconnects on the next send', async () => {
    const record = await rawRecord((id, bytes, socket) => {
      if (id === 'DROP-1') socket.destroy();
      else socket.write(frame(ackFor(bytes)));
    });
    cleanup.push(record.close);
    const c = client(record.port);
    const events: string[] = [];
    c.on('connect', () => events.push('connect'));
    c.on('disconnect', () => events.push('disconnect'));
    const err = await c.send(bytesOf('DROP-1'), 'DROP-1', 5000).catch((e: Error) => e);
    expect(err).to.be.instanceOf(MllpConnectionError);
    expect(err).to.deep.include({ sent: true, controlId: 'DROP-1' });
    expect((err as Error).message).to.match(/dropped before the ACK for control ID DROP-1/);
    expect((await c.send(bytesOf('DROP-2'), 'DROP-2', 5000)).controlId).to.equal('DROP-2');
    expect(record.connections()).to.equal(2);
    expect(events).to.deep.equal(['connect', 'disconnect', 'connect']);
  });

  it('sends no ACK when the handler fails (the sender will retry) and goes on with the next message', async () => {
    const { server, port } = await startServer({
      handler: async ({ bytes }) => {
        if (Hl7Message.parse(decodeMessage(bytes).text).controlId === 'FAIL-1') throw new Error('disk full');
        return ackFor(bytes);
      },
    });
    const failures = once<{ peer: string; error: Error }>(server, 'handlerError');
    const c = client(port);
    const first = c.send(bytesOf('FAIL-1'), 'FAIL-1', 300).catch((e: Error) => e);
    expect((await failures).error.message).to.equal('disk full');
    expect(await first).to.be.instanceOf(MllpTimeoutError);
    expect((await c.send(bytesOf('FAIL-2'), 'FAIL-2', 5000)).controlId).to.equal('FAIL-2');
  });

  it('refuses a second send with a control ID already in flight', async () => {
    const record = await rawRecord(() => undefined);
    cleanup.push(record.close);
    const c = client(record.port);
    const first = c.send(bytesOf('DUP'), 'DUP', 5000).catch((e: Error) => e);
    const second = await c.send(bytesOf('DUP'), 'DUP', 5000).catch((e: Error) => e);
    expect((second as Error).message).to.equal('control ID DUP is already in flight');
    await c.close();
    const err = (await first) as MllpConnectionError;
    expect(err).to.be.instanceOf(MllpConnectionError);
    expect(err.message).to.equal('MLLP client closed before the ACK');
  });

  it('closes a connection that stays silent past idleTimeoutMs', async () => {
    const { server, port } = await startServer({ idleTimeoutMs: 100 });
    const c = client(port);
    await c.send(bytesOf('IDLE-1'), 'IDLE-1', 5000);
    const closed = once(server, 'disconnect');
    const clientSaw = once(c, 'disconnect');
    await closed;
    await clientSaw;
    expect(server.connections).to.equal(0);
    expect((await c.send(bytesOf('IDLE-2'), 'IDLE-2', 5000)).controlId).to.equal('IDLE-2');
  });

  it('close() stops listening and drops open connections', async () => {
    const { server, port } = await startServer();
    const c = client(port);
    await c.send(bytesOf('CLOSE-1'), 'CLOSE-1', 5000);
    const dropped = once(c, 'disconnect');
    await server.close();
    await dropped;
    expect(server.connections).to.equal(0);
    const err = await c.send(bytesOf('CLOSE-2'), 'CLOSE-2', 5000).catch((e: Error) => e);
    expect(err).to.be.instanceOf(MllpConnectionError);
    expect((err as MllpConnectionError).sent).to.equal(false);
    await server.close(); // twice is harmless
  });

  it('listen() rejects when the port is taken', async () => {
    const { port } = await startServer();
    const second = new MllpServer({ host: HOST, port, handler: async () => Buffer.alloc(0) });
    const err = await second.listen().catch((e: Error) => e);
    expect((err as NodeJS.ErrnoException).code).to.equal('EADDRINUSE');
  });
});
