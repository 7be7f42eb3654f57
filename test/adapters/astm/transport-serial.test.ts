/**
 * The serial transport with the real `serialport` package on a socat pseudo-terminal pair: the
 * transport opens one end, the simulator (also through serialport) writes a capture into the other.
 */
import { expect } from 'chai';
import { AstmLink, getProfile, mapTransfer, type ReceivedMessage } from '../../../adapters/astm';
import { checkSerialSettings, SerialTransport, type TransportStatus } from '../../../adapters/astm/transport';
import { captureMessages, runAstm } from '../../../simulators/astm';
import { fixture } from './helpers';
import { startPtyPair, startPtyPairAt, type PtyPair } from '../../support/pty';
import { sharedFixture } from '../../support/shared';

describe('astm serial transport (socat pseudo-terminals)', function () {
  this.timeout(30_000);
  let pty: PtyPair;

  beforeEach(async () => { pty = await startPtyPair(); });
  afterEach(async () => { await pty.stop(); });

  it('refuses line settings a port would refuse', () => {
    expect(() => checkSerialSettings({ path: '/dev/ttyS0', baudRate: 300 })).to.throw(/1200–115200/);
    expect(() => checkSerialSettings({ path: '/dev/ttyS0', parity: 'weird' as never })).to.throw(/parity/);
    expect(() => checkSerialSettings({ path: '' })).to.throw(/path/);
    expect(() => checkSerialSettings({ path: '/dev/ttyS0', baudRate: 115200, dataBits: 7, parity: 'even', stopBits: 2, flowControl: 'rtscts' })).to.not.throw();
  });

  it('opens the port, receives a capture played by the simulator, and maps it', async () => {
    const messages: ReceivedMessage[] = [];
    let resolveMessage!: () => void;
    const arrived = new Promise<void>((resolve) => { resolveMessage = resolve; });
    const transport = new SerialTransport({
      path: pty.a,
      baudRate: 19200,
      createLink: () => {
        const link = new AstmLink();
        link.on('message', (m) => { messages.push(m); resolveMessage(); });
        return link;
      },
    });
    const connected = new Promise<TransportStatus>((resolve) => transport.on('status', (s) => { if (s.state === 'connected') resolve(s); }));
    try {
      await transport.start();
      expect((await connected).peer).to.equal(pty.a);
      const lines: string[] = [];
      const outcome = await runAstm({ serial: pty.b, serialSettings: { baudRate: 19200 }, file: sharedFixture('astm', 'roche-cobas-c311.txt'), log: (l) => lines.push(l) });
      expect(outcome).to.deep.equal({ sent: 1, failed: [] });
      expect(lines.join('\n')).to.match(/message 1: sent/);
      await arrived;
      const expected = captureMessages(fixture('roche-cobas-c311.txt').bytes)[0];
      expect(messages[0].text.toString('latin1')).to.equal(expected);
      const mapped = mapTransfer(messages[0].text, getProfile('roche-cobas-c311'), { site: 's', deviceClass: 'analyser', deviceId: 'c311', receivedAt: new Date() });
      expect(mapped.results).to.have.length(1);
      expect(mapped.results[0].observations).to.have.length(7);
    } finally {
      await transport.close();
    }
  });

  it('reopens the port with back-off when the line goes away and comes back', async () => {
    const statuses: TransportStatus[] = [];
    const transport = new SerialTransport({ path: pty.a, createLink: () => new AstmLink(), backoff: { initialMs: 50, maxMs: 200 }, checkIntervalMs: 100 });
    const waitFor = (state: string) => new Promise<TransportStatus>((resolve) => {
      const on = (s: TransportStatus) => { if (s.state === state) { transport.off('status', on); resolve(s); } };
      transport.on('status', on);
    });
    transport.on('status', (s) => statuses.push(s));
    try {
      const first = waitFor('connected');
      await transport.start();
      await first;
      const lost = waitFor('disconnected');
      await pty.stop(true); // the adapter is unplugged: the terminal disappears
      await lost;
      const retried = waitFor('error'); // the path is gone: opening fails, and is tried again
      await retried;
      const back = waitFor('connected');
      pty = await startPtyPairAt(pty.a, pty.b, pty.remove);
      await back;
      expect(statuses.filter((s) => s.state === 'connected')).to.have.length(2);
    } finally {
      await transport.close();
    }
  });
});
