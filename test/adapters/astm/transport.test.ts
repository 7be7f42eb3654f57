/**
 * The same state machines over real byte streams: a loopback TCP connection (net.Server and
 * net.Socket), and a serial line made of a socat pseudo-terminal pair opened with node:fs. The
 * sender and the receiver are both ours; what crosses the line is real bytes with real timing.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { createServer, Socket, type Server } from 'node:net';
import { join } from 'node:path';
import { AstmLink, attachLink, getProfile, mapTransfer, type ReceivedMessage } from '../../../adapters/astm';
import { tempDir } from '../../support/net';
import { expectedText, fixture } from './helpers';

function nextMessage(link: AstmLink): Promise<ReceivedMessage> {
  return new Promise((resolve, reject) => {
    link.once('message', resolve);
    link.once('incomplete', (m) => reject(new Error(`incomplete transfer: ${m.reason}`)));
  });
}

function sent(link: AstmLink, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onSent = (s: { id: string }) => {
      if (s.id !== id) return;
      link.off('sent', onSent);
      resolve();
    };
    link.on('sent', onSent);
    link.on('send-failed', (f) => {
      if (f.id === id) reject(new Error(`send failed: ${f.reason}`));
    });
  });
}

describe('astm link over real lines', function () {
  this.timeout(30_000);

  it('loopback TCP: instrument (client) sends two captures, the computer (server) receives them exactly, then sends an order back', async () => {
    const computer = new AstmLink({ side: 'computer' });
    const instrument = new AstmLink({ side: 'instrument' });
    let server: Server | undefined;
    let client: Socket | undefined;
    let accepted: Socket | undefined;
    try {
      server = createServer();
      const connected = new Promise<Socket>((resolve) => server!.once('connection', resolve));
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      client = new Socket();
      client.setNoDelay(true);
      await new Promise<void>((resolve, reject) => {
        client!.once('error', reject);
        client!.connect(port, '127.0.0.1', resolve);
      });
      accepted = await connected;
      accepted.setNoDelay(true);
      attachLink(computer, accepted);
      attachLink(instrument, client);

      const frames: number[] = [];
      const texts: Buffer[] = [];
      computer.on('frame', (f) => frames.push(f.frameNumber ?? -1));
      for (const file of ['sysmex-xn550.txt', 'cepheid-genexpert.txt']) {
        const text = expectedText(fixture(file).bytes);
        const arriving = nextMessage(computer);
        const id = instrument.send(text);
        await sent(instrument, id);
        const message = await arriving;
        expect(message.text.toString('latin1'), file).to.equal(text);
        texts.push(message.text);
      }
      // From the socket to canonical results.
      const mapped = mapTransfer(texts[0], getProfile('sysmex-xn'), { site: 'cso-annecy', deviceClass: 'haematology', deviceId: 'xn-1', receivedAt: new Date() });
      expect(mapped.results.map((r) => [r.specimen?.id, r.observations.length])).to.deep.equal([['27', 41]]);
      // The 4,332-character GeneXpert message went as 240-character frames: the numbers wrapped.
      expect(frames.filter((fn) => fn === 0).length).to.be.greaterThan(1);

      const order = 'H|\\^&|||Passerelle\rP|1||IPP42\rO|1|S26-001||^^^HbA1c|R\rL|1|N\r';
      const arriving = nextMessage(instrument);
      await sent(computer, computer.send(order));
      expect((await arriving).text.toString('latin1')).to.equal(order);
    } finally {
      computer.close();
      instrument.close();
      client?.destroy();
      accepted?.destroy();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    }
  });

  it('serial line: a socat pseudo-terminal pair opened with node:fs carries a capture both ways', async () => {
    const { dir, remove } = tempDir('passerelle-astm-pty-');
    const ttyA = join(dir, 'ttyA');
    const ttyB = join(dir, 'ttyB');
    let socat: ChildProcess | undefined;
    const streams: Array<{ destroy(): void }> = [];
    const instrument = new AstmLink({ side: 'instrument' });
    const computer = new AstmLink({ side: 'computer' });
    try {
      socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${ttyA}`, `pty,raw,echo=0,link=${ttyB}`], { stdio: ['ignore', 'ignore', 'pipe'] });
      await new Promise<void>((resolve, reject) => {
        let log = '';
        socat!.once('error', reject);
        socat!.once('exit', (code) => reject(new Error(`socat exited (${code}): ${log}`)));
        socat!.stderr!.on('data', (chunk: Buffer) => {
          log += chunk.toString();
          // socat says so once both ends exist.
          if (log.includes('starting data transfer loop')) resolve();
        });
      });
      expect(existsSync(ttyA) && existsSync(ttyB)).to.equal(true);

      const open = (path: string, link: AstmLink) => {
        // One stream to read and one to write, each with its own descriptor on the terminal.
        const reader = createReadStream(path, { highWaterMark: 256 });
        const writer = createWriteStream(path, { flags: 'r+' });
        // The line goes away when socat is stopped at the end: that is not a test failure.
        reader.on('error', () => undefined);
        writer.on('error', () => undefined);
        streams.push(reader, writer);
        attachLink(link, reader, writer);
      };
      open(ttyA, instrument);
      open(ttyB, computer);

      const text = expectedText(fixture('horiba-pentra-xlr.txt').bytes);
      const arriving = nextMessage(computer);
      await sent(instrument, instrument.send(text));
      const message = await arriving;
      expect(message.text.toString('latin1')).to.equal(text);
      expect(message.frames).to.equal(28);

      const reply = 'H|\\^&|||LIS\rQ|1|^S1234||ALL\rL|1|N\r';
      const back = nextMessage(instrument);
      await sent(computer, computer.send(reply));
      expect((await back).text.toString('latin1')).to.equal(reply);
    } finally {
      instrument.close();
      computer.close();
      if (socat && socat.exitCode === null) {
        const exited = new Promise((resolve) => socat!.once('exit', resolve));
        socat.kill('SIGTERM');
        await exited;
      }
      for (const s of streams) s.destroy();
      remove();
    }
  });
});
