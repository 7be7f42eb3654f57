/**
 * The MSSanté mail end to end at the adapter level: the delivery worker sends the queued mail
 * through SmtpTransport to a real SMTP server (python3-aiosmtpd, STARTTLS required, a test
 * certificate), which writes what it got; Python's `email` package parses it, and the existing
 * readers read the attachments back.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DeliveryWorker, type DeliveryEvent } from '../../../adapters/delivery';
import { Store } from '../../../adapters/journal';
import { GpFormatError, planReports, readCdaCrBio, readHprimMedecin, type GpReport } from '../../../adapters/gp';
import { applyBounce, enqueueGpMail, gpFiles, gpMail, messageIdFor, SmtpTransport, type GpMail, type SmtpOptions } from '../../../adapters/gp/mail';
import { readXdm } from '../../../adapters/gp/xdm';
import { makeCertificate, type Certificate } from '../../support/certificate';
import { freePort, tempDir } from '../../support/net';
import { parseMail, SmtpServer, type SmtpMode } from '../../support/smtp';
import { exampleResult, NOW, SENDER } from './fixtures';

const FROM = 'passerelle@cso-annecy.mssante.fr';
const EXPECTED_VALUES = [
  ['6690-2', '12.4', '4', '10', ['H']],
  ['718-7', '10.9', '12', '16', ['L']],
  ['777-3', '254', '150', '400', ['N']],
  ['1988-5', '<5', undefined, '5', ['N']],
];

async function exampleMail(report: GpReport = planReports([exampleResult()]).reports[0]): Promise<GpMail> {
  const files = await gpFiles(report, SENDER, { recipientCode: 'LEFEVREB', now: NOW });
  return gpMail(report, files, { from: FROM, siteName: 'CSNP Annecy', nil: 'PASSERELLE-TEST', now: NOW });
}

describe('gp/mail: MSSanté mail through a real SMTP server (aiosmtpd, STARTTLS)', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let cert: Certificate;
  let store: Store;
  const servers: SmtpServer[] = [];
  const workers: DeliveryWorker[] = [];

  beforeEach(() => {
    tmp = tempDir('gp-mail-');
    cert = makeCertificate(tmp.dir);
    store = Store.open({ dir: join(tmp.dir, 'journal') });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    store.close();
    tmp.remove();
  });

  async function server(mode: SmtpMode = 'accept', port?: number, auth?: { user: string; pass: string }): Promise<SmtpServer> {
    const dir = join(tmp.dir, `smtp-${servers.length}`);
    require('node:fs').mkdirSync(dir);
    const s = await SmtpServer.start({ port: port ?? await freePort(), dir, certFile: cert.certFile, keyFile: cert.keyFile, mode, ...(auth ? { auth } : {}) });
    servers.push(s);
    return s;
  }

  function worker(port: number, options: Partial<SmtpOptions> = {}, maxAttempts = 3): { worker: DeliveryWorker; events: DeliveryEvent[]; next: (state: DeliveryEvent['state']) => Promise<DeliveryEvent> } {
    const transport = new SmtpTransport({ host: '127.0.0.1', port, tls: { ca: [cert.cert] }, ...options });
    const w = new DeliveryWorker({ store, destination: 'gp-mail', transport, ackTimeoutMs: 15_000, maxAttempts, backoff: { initialMs: 50, maxMs: 200, factor: 2 }, pollMs: 100 });
    const events: DeliveryEvent[] = [];
    w.on('delivery', (e: DeliveryEvent) => events.push(e));
    workers.push(w);
    const next = (state: DeliveryEvent['state']) => new Promise<DeliveryEvent>((resolve) => {
      const seen = events.find((e) => e.state === state);
      if (seen) return resolve(seen);
      const on = (e: DeliveryEvent) => { if (e.state === state) { w.off('delivery', on); resolve(e); } };
      w.on('delivery', on);
    });
    return { worker: w, events, next };
  }

  it('one point-of-care result: exactly one mail to the GP, attachments read back exactly (HPRIM Médecin in ISO 8859-1, CR-BIO inside IHE_XDM.ZIP)', async () => {
    const smtp = await server();
    const { worker: w, next } = worker(smtp.port);
    const mail = await exampleMail();
    const queued = enqueueGpMail(store, 'gp-mail', mail);
    w.start();
    const accepted = await next('accepted');
    expect(accepted.ackCode).to.equal('AA');
    expect(accepted.controlId).to.equal(queued.controlId);
    const [eml, ...more] = smtp.messages();
    expect(more).to.deep.equal([]);
    expect(smtp.envelope(eml)).to.deep.equal({ from: FROM, to: ['benoit.lefevre@medecin.mssante.fr'], tls: true, user: null });

    const parsed = parseMail(eml);
    expect(parsed.headers['From']).to.equal(FROM);
    expect(parsed.headers['To']).to.equal('benoit.lefevre@medecin.mssante.fr');
    expect(parsed.headers['Message-ID']).to.equal(messageIdFor(queued.controlId, FROM));
    expect(parsed.headers['Subject']).to.equal("Compte rendu d'examens biologiques - CSNP Annecy");
    expect(parsed.headers['X-MSS-NIL']).to.equal('PASSERELLE-TEST');
    expect(parsed.headers['X-MSS-CODECDA']).to.equal('11502-2');
    expect(parsed.headers['X-MSS-INS']).to.equal('O');
    // No patient data in the subject or the body.
    for (const text of [parsed.headers['Subject'], parsed.text]) {
      for (const word of ['NOËL', 'Hélène', 'LEFÈVRE', '284037512345678', '1984', 'IPP00042187']) expect(text).not.to.contain(word);
    }
    // In the GP's order of preference (the directory's formats): CDA, then HPRIM Médecin.
    expect(parsed.attachments.map((a) => [a.filename, a.contentType, a.charset])).to.deep.equal([
      ['IHE_XDM.ZIP', 'application/zip', null],
      [mail.attachments[1].filename, 'text/plain', 'ISO-8859-1'],
    ]);

    const [xdmPart, hprimPart] = parsed.attachments;
    expect(hprimPart.bytes.includes(Buffer.from([0x4e, 0x4f, 0xcb, 0x4c]))).to.equal(true); // NOËL in ISO 8859-1
    const hprim = readHprimMedecin(hprimPart.bytes);
    expect(hprim.patient).to.deep.equal({ family: 'NOËL', given: 'Hélène', birthDate: '1984-03-12', ins: '284037512345678', localId: 'IPP00042187' });
    expect(hprim.recipientCode).to.equal('LEFEVREB');
    expect(hprim.recipientLabel).to.equal('Dr LEFÈVRE Benoît');
    expect(hprim.results.map((r) => [r.code, r.value, r.low, r.high, r.flags])).to.deep.equal(EXPECTED_VALUES);
    expect(hprim.results.map((r) => [r.label, r.unit])).to.deep.equal([['Leucocytes', 'G/L'], ['Hémoglobine', 'g/dL'], ['Plaquettes', 'G/L'], ['Protéine C réactive', 'mg/L']]);

    const xdm = await readXdm(xdmPart.bytes);
    expect(xdm.documents).to.have.length(1);
    const cda = readCdaCrBio(xdm.documents[0].bytes);
    expect(cda.code).to.equal('11502-2');
    expect(cda.patient).to.deep.include({ family: 'NOËL', given: 'Hélène Françoise', birthDate: '1984-03-12', sex: 'F', ins: '284037512345678' });
    expect(cda.gp).to.deep.include({ family: 'LEFÈVRE', given: 'Benoît', mailbox: 'benoit.lefevre@medecin.mssante.fr' });
    expect(cda.prescriber?.family).to.equal('CŒURDEROY');
    expect(cda.results.map((r) => [r.code, r.value, r.low, r.high, r.flags])).to.deep.equal(EXPECTED_VALUES);
    expect(cda.results.map((r) => [r.label, r.unit])).to.deep.equal([['Leucocytes', '10*9/L'], ['Hémoglobine', 'g/dL'], ['Plaquettes', '10*9/L'], ['Protéine C réactive', 'mg/L']]);
    expect(xdm.documents[0].patientId).to.equal('284037512345678^^^&1.2.250.1.213.1.4.8&ISO^NH');
  });

  it('the same report queued twice goes once', async () => {
    const smtp = await server();
    const { worker: w, next } = worker(smtp.port);
    const mail = await exampleMail();
    expect(enqueueGpMail(store, 'gp-mail', mail).duplicate).to.equal(false);
    expect(enqueueGpMail(store, 'gp-mail', await exampleMail()).duplicate).to.equal(true);
    w.start();
    await next('accepted');
    expect(store.depth('gp-mail')).to.deep.include({ pending: 0, waiting: 0, sent: 0 });
    expect(smtp.messages()).to.have.length(1);
  });

  it('a server that refuses (550 5.1.1): AR each time, then a dead letter; nothing delivered', async () => {
    const smtp = await server('reject');
    const { worker: w, events, next } = worker(smtp.port, {}, 2);
    enqueueGpMail(store, 'gp-mail', await exampleMail());
    w.start();
    const dead = await next('dead');
    expect(dead.ackCode).to.equal('AR');
    expect(dead.reason).to.match(/550 5\.1\.1/);
    expect(events.filter((e) => e.state === 'rejected').map((e) => e.ackCode)).to.deep.equal(['AR']);
    expect(smtp.messages()).to.deep.equal([]);
  });

  it('a temporary refusal (451): AE, tried again later', async () => {
    const smtp = await server('tempfail');
    const { worker: w, next } = worker(smtp.port, {}, 5);
    enqueueGpMail(store, 'gp-mail', await exampleMail());
    w.start();
    const rejected = await next('rejected');
    expect(rejected.ackCode).to.equal('AE');
    expect(rejected.reason).to.match(/451 4\.3\.0/);
    expect(rejected.nextAttemptAt).to.be.a('number');
  });

  it('the server down for a while, then up: delivered once it is back, exactly once', async () => {
    const port = await freePort();
    const { worker: w, events, next } = worker(port);
    const queued = enqueueGpMail(store, 'gp-mail', await exampleMail());
    w.start();
    const unreachable = await next('unreachable');
    expect(unreachable.reason).to.match(/ECONNREFUSED|connect/);
    expect(unreachable.attempts).to.equal(0); // nothing reached a server: no attempt used
    const smtp = await server('accept', port);
    const accepted = await next('accepted');
    expect(accepted.controlId).to.equal(queued.controlId);
    await w.stop();
    expect(smtp.messages()).to.have.length(1);
    expect(parseMail(smtp.messages()[0]).headers['Message-ID']).to.equal(messageIdFor(queued.controlId, FROM));
    expect(events.filter((e) => e.state === 'accepted')).to.have.length(1);
  });

  it('a server that takes the connection and never answers: a timeout, counted as an attempt, tried again', async () => {
    // No SMTP server can be made to hang on purpose: a bare TCP listener that never greets stands in for one.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const transport = new SmtpTransport({ host: '127.0.0.1', port, tls: { ca: [cert.cert] } });
      const w = new DeliveryWorker({ store, destination: 'gp-mail', transport, ackTimeoutMs: 500, maxAttempts: 3, backoff: { initialMs: 50, maxMs: 200, factor: 2 }, pollMs: 100 });
      workers.push(w);
      const retrying = new Promise<DeliveryEvent>((resolve) => w.on('delivery', (e: DeliveryEvent) => { if (e.state === 'retrying') resolve(e); }));
      enqueueGpMail(store, 'gp-mail', await exampleMail());
      w.start();
      const event = await retrying;
      expect(event.attempts).to.equal(1);
      expect(event.reason).to.equal('no ACK within 500 ms');
      await w.stop();
    } finally {
      silent.close();
    }
  });

  it('a server certificate that does not verify: a clear error, nothing sent, the message waits to be tried again', async () => {
    const smtp = await server();
    const { worker: w, next } = worker(smtp.port, { tls: {} }); // the test CA not given
    const queued = enqueueGpMail(store, 'gp-mail', await exampleMail());
    w.start();
    const unreachable = await next('unreachable');
    expect(unreachable.reason).to.match(/TLS failed, nothing sent/);
    expect(unreachable.reason).to.match(/certificate/i);
    await w.stop();
    expect(smtp.messages()).to.deep.equal([]);
    const row = store.getOutbound(queued.id)!;
    expect(row.state).to.equal('waiting');
    expect(row.attempts).to.equal(0);
    expect(row.lastError).to.match(/certificate/i);
  });

  it('credentials: the right ones deliver, wrong ones are a clear error and nothing is sent', async () => {
    const smtp = await server('accept', undefined, { user: 'hub', pass: 's3cret' });
    const good = worker(smtp.port, { auth: { user: 'hub', pass: 's3cret' } });
    enqueueGpMail(store, 'gp-mail', await exampleMail());
    good.worker.start();
    await good.next('accepted');
    await good.worker.stop();
    expect(smtp.messages()).to.have.length(1);

    const other = planReports([{ ...exampleResult(), id: 'other-result' }]).reports[0];
    enqueueGpMail(store, 'gp-mail', await exampleMail(other));
    const bad = worker(smtp.port, { auth: { user: 'hub', pass: 'wrong' } });
    bad.worker.start();
    const unreachable = await bad.next('unreachable');
    expect(unreachable.reason).to.match(/refused the sender's credentials/);
    expect(smtp.messages()).to.have.length(1);
  });

  it('an invalid GP mailbox: a clear error before anything is queued', async () => {
    const report = planReports([exampleResult()]).reports[0];
    report.gp = { ...report.gp!, mailbox: 'benoit.lefevre@medecin' };
    const files = await gpFiles(report, SENDER, { now: NOW });
    expect(() => gpMail(report, files, { from: FROM, siteName: 'CSNP Annecy' })).to.throw(GpFormatError, /GP's address is not a valid mailbox: domain is not a host name/);
    expect(store.depth('gp-mail')).to.deep.equal({ pending: 0, waiting: 0, sent: 0, dead: 0 });
  });

  it('a bounce (DSN) naming the message turns it into a dead letter with the reason', async () => {
    const smtp = await server();
    const { worker: w, next } = worker(smtp.port);
    const queued = enqueueGpMail(store, 'gp-mail', await exampleMail());
    w.start();
    await next('accepted');
    const dsn = readFileSync(join(__dirname, '..', '..', '..', '..', 'test', 'adapters', 'gp', 'bounce.eml'), 'latin1')
      .replace(/__MESSAGE_ID__/g, messageIdFor(queued.controlId, FROM));
    const outcome = applyBounce(store, 'gp-mail', Buffer.from(dsn, 'latin1'));
    expect(outcome.applied).to.equal(true);
    if (!outcome.applied) return;
    expect(outcome.event).to.deep.include({ state: 'dead', outboundId: queued.id, controlId: queued.controlId, resultId: exampleResult().id });
    expect(outcome.event.reason).to.equal('bounced: 5.1.1 (550 5.1.1 <benoit.lefevre@medecin.mssante.fr>: Recipient address rejected: User unknown)');
    expect(store.getOutbound(queued.id)!.state).to.equal('dead');
    expect(applyBounce(store, 'gp-mail', Buffer.from(dsn, 'latin1'))).to.deep.include({ applied: false });
    expect(applyBounce(store, 'another-node', Buffer.from(dsn, 'latin1'))).to.deep.include({ applied: false, reason: 'the report names no message this node sent' });
  });
});
