import { expect } from 'chai';
import { startBroker } from '../../../adapters/bus';
import { tempDir } from '../../support/net';
import { rejection } from './helpers';

describe('bus broker start-up', () => {
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    for (const d of dirs.splice(0)) d.remove();
  });
  function dir(): string {
    const d = tempDir();
    dirs.push(d);
    return d.dir;
  }

  it('refuses a second broker on the same data directory, and a taken port, saying which', async () => {
    const shared = dir();
    const first = await startBroker({ host: '127.0.0.1', port: 0, dataDir: shared });
    closers.push(() => first.close());
    expect(first.url).to.equal(`mqtt://127.0.0.1:${first.port}`);

    const twin = await rejection(startBroker({ host: '127.0.0.1', port: 0, dataDir: shared }));
    expect(twin.message).to.match(new RegExp(`^bus broker: cannot open persistence in ${shared}: `));

    const other = dir();
    const clash = await rejection(startBroker({ host: '127.0.0.1', port: first.port, dataDir: other }));
    expect(clash.message).to.match(/^bus broker: cannot listen on 127\.0\.0\.1: .*EADDRINUSE/);
    // the failed start gave its database back
    const again = await startBroker({ host: '127.0.0.1', port: 0, dataDir: other });
    closers.push(() => again.close());
    expect(again.clients()).to.equal(0);
  });
});
