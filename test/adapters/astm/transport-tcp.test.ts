/**
 * The TCP transports with real sockets: the listener gives each connection its own link; the
 * outgoing connection comes back by itself when the device side restarts.
 */
import { expect } from 'chai';
import { createServer, Socket, type Server } from 'node:net';
import { AstmLink, type ReceivedMessage } from '../../../adapters/astm';
import { backoffDelay, TcpConnectTransport, TcpListenTransport, type TransportStatus } from '../../../adapters/astm/transport';
import { connectTcp, playMessages } from '../../../simulators/astm';
import { freePort } from '../../support/net';

const MESSAGE = 'H|\\^&|||dev\rP|1\rO|1|S1\rR|1|^^^GLU|5.4|mmol/L\rL|1|N\r';

function next<T>(emitter: NodeJS.EventEmitter, event: string, filter: (value: T) => boolean = () => true): Promise<T[]> {
  return new Promise((resolve) => {
    const on = (...args: unknown[]) => {
      if (!filter(args[0] as T)) return;
      emitter.off(event, on);
      resolve(args as T[]);
    };
    emitter.on(event, on);
  });
}

function messageOn(link: AstmLink): Promise<ReceivedMessage> {
  return new Promise((resolve) => link.once('message', resolve));
}

describe('astm transports over TCP', function () {
  this.timeout(20_000);

  it('back-off grows by its factor up to its cap', () => {
    const backoff = { initialMs: 100, maxMs: 1000, factor: 2 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, backoff))).to.deep.equal([100, 200, 400, 800, 1000, 1000]);
  });

  it('tcp-listen: one link per instrument connection, each receiving its own message; status follows', async () => {
    const links: AstmLink[] = [];
    const statuses: TransportStatus[] = [];
    const transport = new TcpListenTransport({ host: '127.0.0.1', port: 0, createLink: () => { const l = new AstmLink(); links.push(l); return l; } });
    transport.on('status', (s) => statuses.push(s));
    const sockets: Socket[] = [];
    try {
      await transport.start();
      expect(statuses[0]).to.include({ state: 'listening', connections: 0 });
      const firstLink = next<AstmLink>(transport, 'link');
      const a = await connectTcp(`127.0.0.1:${transport.port}`);
      sockets.push(a);
      const [linkA] = await firstLink;
      const secondLink = next<AstmLink>(transport, 'link');
      const b = await connectTcp(`127.0.0.1:${transport.port}`);
      sockets.push(b);
      const [linkB] = await secondLink;
      expect(linkA).to.not.equal(linkB);
      expect(transport.connections).to.equal(2);
      const gotA = messageOn(linkA);
      const gotB = messageOn(linkB);
      const [sentA, sentB] = await Promise.all([
        playMessages(a, [MESSAGE.replace('S1', 'A1')]),
        playMessages(b, [MESSAGE.replace('S1', 'B1')]),
      ]);
      expect(sentA.sent + sentB.sent).to.equal(2);
      expect((await gotA).text.toString('latin1')).to.contain('O|1|A1');
      expect((await gotB).text.toString('latin1')).to.contain('O|1|B1');
      const gone = next<TransportStatus>(transport, 'status', (s: TransportStatus) => s.state === 'disconnected');
      a.destroy();
      expect((await gone)[0].connections).to.equal(1);
    } finally {
      for (const s of sockets) s.destroy();
      await transport.close();
    }
  });

  it('tcp-listen: start() rejects when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const transport = new TcpListenTransport({ host: '127.0.0.1', port, createLink: () => new AstmLink() });
    try {
      let error: Error | undefined;
      await transport.start().catch((err: Error) => { error = err; });
      expect(error?.message).to.match(/EADDRINUSE/);
    } finally {
      await transport.close();
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('tcp-connect: retries while the device is down, and reconnects after the device restarts', async () => {
    const port = await freePort();
    const statuses: TransportStatus[] = [];
    const transport = new TcpConnectTransport({ host: '127.0.0.1', port, createLink: () => new AstmLink(), backoff: { initialMs: 50, maxMs: 200 } });
    transport.on('status', (s) => statuses.push(s));
    let device: Server | undefined;
    const deviceSockets = new Set<Socket>();
    const startDevice = async () => {
      device = createServer((socket) => {
        deviceSockets.add(socket);
        socket.on('close', () => deviceSockets.delete(socket));
        // The device sends one message on each connection.
        void playMessages(socket, [MESSAGE]).catch(() => undefined);
      });
      await new Promise<void>((resolve) => device!.listen(port, '127.0.0.1', resolve));
    };
    const stopDevice = async () => {
      for (const s of deviceSockets) s.destroy();
      await new Promise<void>((resolve) => device!.close(() => resolve()));
    };
    try {
      const failedOnce = next<TransportStatus>(transport, 'status', (s: TransportStatus) => s.state === 'error');
      await transport.start();
      const [failure] = await failedOnce;
      expect(failure.error?.message).to.match(/ECONNREFUSED/);
      expect(failure.retryInMs).to.equal(50);

      let linked = next<AstmLink>(transport, 'link');
      await startDevice();
      let [link] = await linked;
      expect((await messageOn(link)).text.toString('latin1')).to.equal(MESSAGE);

      const dropped = next<TransportStatus>(transport, 'status', (s: TransportStatus) => s.state === 'disconnected');
      await stopDevice();
      await dropped;
      linked = next<AstmLink>(transport, 'link');
      await startDevice();
      [link] = await linked;
      expect((await messageOn(link)).text.toString('latin1')).to.equal(MESSAGE, 'the link of the new connection receives');
      expect(statuses.filter((s) => s.state === 'connected')).to.have.length(2);
    } finally {
      await transport.close();
      if (device?.listening) await stopDevice();
    }
  });
});
