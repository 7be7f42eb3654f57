import { expect } from 'chai';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeliveryWorker, type DeliveryEvent } from '../../../adapters/delivery';
import { Store } from '../../../adapters/journal';
import { planReports, readHprimMedecin } from '../../../adapters/gp';
import { enqueueGpDrop, FolderDropTransport, gpDrop, gpFolderName } from '../../../adapters/gp/folder';
import { gpFiles } from '../../../adapters/gp/mail';
import { readXdm } from '../../../adapters/gp/xdm';
import { tempDir } from '../../support/net';
import { exampleResult, NOW, SENDER } from './fixtures';

describe('gp/folder: a folder drop per GP through the delivery worker', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let worker: DeliveryWorker | undefined;
  beforeEach(() => {
    tmp = tempDir('gp-drop-');
    store = Store.open({ dir: join(tmp.dir, 'journal') });
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    store.close();
    tmp.remove();
  });

  function start(dir: string): (state: DeliveryEvent['state']) => Promise<DeliveryEvent> {
    worker = new DeliveryWorker({ store, destination: 'gp-drop', transport: new FolderDropTransport(dir), backoff: { initialMs: 20, maxMs: 100, factor: 2 }, pollMs: 50 });
    const w = worker;
    const events: DeliveryEvent[] = [];
    w.on('delivery', (e: DeliveryEvent) => events.push(e));
    w.start();
    return (state) => new Promise((resolve) => {
      const seen = events.find((e) => e.state === state);
      if (seen) return resolve(seen);
      const on = (e: DeliveryEvent) => { if (e.state === state) { w.off('delivery', on); resolve(e); } };
      w.on('delivery', on);
    });
  }

  const drop = async () => {
    const report = planReports([exampleResult()]).reports[0];
    return gpDrop(report, await gpFiles(report, SENDER, { recipientCode: 'LEFEVREB', now: NOW }));
  };

  it('writes the GP\'s files under <dir>/<RPPS>/, whole, with no temporary file left', async () => {
    const out = join(tmp.dir, 'out');
    const next = start(out);
    const d = await drop();
    enqueueGpDrop(store, 'gp-drop', d);
    await next('accepted');
    const folder = join(out, '10100987654');
    expect(readdirSync(folder).sort()).to.deep.equal([d.files[1].fileName, 'IHE_XDM.ZIP'].sort());
    expect(readHprimMedecin(readFileSync(join(folder, d.files[1].fileName))).results.map((r) => r.value)).to.deep.equal(['12.4', '10.9', '254', '<5']);
    expect((await readXdm(readFileSync(join(folder, 'IHE_XDM.ZIP')))).documents).to.have.length(1);
  });

  it('never overwrites: a different file with the same name stays, the new one gets the control id in its name', async () => {
    const out = join(tmp.dir, 'out');
    const folder = join(out, '10100987654');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'IHE_XDM.ZIP'), 'someone else\'s file');
    const next = start(out);
    const queued = enqueueGpDrop(store, 'gp-drop', await drop());
    await next('accepted');
    expect(readFileSync(join(folder, 'IHE_XDM.ZIP'), 'utf8')).to.equal('someone else\'s file');
    expect((await readXdm(readFileSync(join(folder, `IHE_XDM_${queued.controlId}.ZIP`)))).documents).to.have.length(1);
  });

  it('a folder that cannot be written: unreachable, no attempt used; delivered once it can', async () => {
    const out = join(tmp.dir, 'out');
    writeFileSync(out, 'a file where the folder should be');
    const next = start(out);
    enqueueGpDrop(store, 'gp-drop', await drop());
    const unreachable = await next('unreachable');
    expect(unreachable.reason).to.match(/DropConnectionError/);
    expect(unreachable.attempts).to.equal(0);
    rmSync(out);
    await next('accepted');
    expect(readdirSync(join(out, '10100987654'))).to.have.length(2);
  });

  it('names folders by RPPS, else by mailbox, with nothing a path could misread', () => {
    expect(gpFolderName({ id: '10100987654', mailbox: 'a@b.fr' })).to.equal('10100987654');
    expect(gpFolderName({ mailbox: 'benoit.lefevre@medecin.mssante.fr' })).to.equal('benoit.lefevre@medecin.mssante.fr');
    expect(gpFolderName({ id: '../../etc' })).to.equal('__.._etc');
    expect(() => gpFolderName({})).to.throw(/neither an RPPS number nor a mailbox/);
  });
});
