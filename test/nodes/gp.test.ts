/**
 * The GP nodes wired together in Node-RED: GP directory → GP message → GP mail out to a real
 * SMTP server (python3-aiosmtpd, STARTTLS, the test certificate) and GP folder out to a temp
 * folder; patients without a GP on output 2; bounces fed through msg.bounce; the example flow.
 */
import { expect } from 'chai';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeliveryEvent } from '../../adapters/delivery';
import { readHprimMedecin } from '../../adapters/gp';
import { readXdm } from '../../adapters/gp/xdm';
import { messageIdFor } from '../../adapters/gp/mail';
import { validateResult, type Result } from '../../adapters/model';
import { toObservation } from '../../adapters/vitals/measurement';
import { vitalsResult } from '../../adapters/vitals/result';
import { makeCertificate, type Certificate } from '../support/certificate';
import { waitUntil } from '../support/hub-process';
import { freePort, tempDir } from '../support/net';
import { parseMail, SmtpServer } from '../support/smtp';
import { helper, startHarness, statusesOf, type Harness } from './harness';

/* eslint-disable @typescript-eslint/no-require-imports */
const directoryNode = require('../../nodes/gp-directory/gp-directory.js');
const messageNode = require('../../nodes/gp-message/gp-message.js');
const mailOutNode = require('../../nodes/gp-mail-out/gp-mail-out.js');
const folderOutNode = require('../../nodes/gp-folder-out/gp-folder-out.js');
/* eslint-enable @typescript-eslint/no-require-imports */

const ROOT = join(__dirname, '..', '..', '..');
let fresh = 0;
/** The documented result under a new id: the queues are shared by the tests, and the same results make the same (deduplicated) mail. */
const exampleResult = (): Result => ({ ...(JSON.parse(readFileSync(join(ROOT, 'docs', 'schema', 'result.example.json'), 'utf8')) as Result), id: `gp-node-test-${process.pid}-${++fresh}` });
const FROM = 'passerelle@cso-annecy.mssante.fr';
const DIRECTORY = JSON.stringify({
  schema: 'passerelle.gp-directory/1',
  doctors: [{ rpps: '10100987654', name: { family: 'LEFÈVRE', given: ['Benoît'], prefix: 'Dr' }, mailbox: 'benoit.lefevre@medecin.mssante.fr', formats: ['hprim-medecin', 'cda-crbio'], hprimCode: 'LEFEVREB' }],
  patients: [],
});
const SENDER = { organizationId: '740012345', organizationName: 'CSNP Annecy', responsibleRpps: '10101111111', responsibleFamily: 'ROUSSEAU', responsibleGiven: 'Maëlle', hprimCode: 'CSOANNECY' };

describe('GP nodes: directory, message, mail out, folder out', function () {
  this.timeout(60_000);
  let harness: Harness;
  let work: ReturnType<typeof tempDir>;
  let cert: Certificate;
  let smtp: SmtpServer | undefined;

  before(async () => { harness = await startHarness(); });
  after(async () => { await harness.stop(); });
  beforeEach(() => {
    work = tempDir('passerelle-gp-nodes-');
    cert = makeCertificate(work.dir);
  });
  afterEach(async () => {
    await helper.unload();
    await smtp?.stop();
    smtp = undefined;
    work.remove();
  });

  async function startSmtp(mode: 'accept' | 'reject' = 'accept'): Promise<SmtpServer> {
    const dir = join(work.dir, 'smtp');
    mkdirSync(dir);
    smtp = await SmtpServer.start({ port: await freePort(), dir, certFile: cert.certFile, keyFile: cert.keyFile, mode });
    return smtp;
  }

  async function load(port: number, mailOut: Record<string, unknown> = {}, directory: Record<string, unknown> = { source: 'inline', json: DIRECTORY }, message: Record<string, unknown> = {}) {
    const folder = join(work.dir, 'drop');
    await helper.load([directoryNode, messageNode, mailOutNode, folderOutNode], [
      { id: 'dir', type: 'passerelle-gp-directory', ...directory },
      { id: 'message', type: 'passerelle-gp-message', directory: 'dir', ...SENDER, ...message, wires: [['mail', 'folder', 'files'], ['notSent']] },
      { id: 'mail', type: 'passerelle-gp-mail-out', smtp: `127.0.0.1:${port}`, from: FROM, nil: 'PASSERELLE-TEST', siteName: 'CSNP Annecy', caFile: cert.certFile, timeout: 15, maxAttempts: 2, retryMax: 1, ...mailOut, wires: [['mailEvents']] },
      { id: 'folder', type: 'passerelle-gp-folder-out', folder, timeout: 15, maxAttempts: 2, retryMax: 1, wires: [['folderEvents']] },
      { id: 'files', type: 'helper' },
      { id: 'notSent', type: 'helper' },
      { id: 'mailEvents', type: 'helper' },
      { id: 'folderEvents', type: 'helper' },
    ]);
    const got = { files: [] as unknown[], notSent: [] as Array<{ kind: string; reason: string; resultIds: string[] }>, mail: [] as DeliveryEvent[], folder: [] as DeliveryEvent[], errors: [] as string[] };
    helper.getNode('files').on('input', (m: { payload: unknown }) => got.files.push(m.payload));
    helper.getNode('notSent').on('input', (m: { payload: { kind: string; reason: string; resultIds: string[] } }) => got.notSent.push(m.payload));
    helper.getNode('mailEvents').on('input', (m: { payload: DeliveryEvent }) => got.mail.push(m.payload));
    helper.getNode('folderEvents').on('input', (m: { payload: DeliveryEvent }) => got.folder.push(m.payload));
    for (const id of ['message', 'mail', 'folder']) helper.getNode(id).on('call:error', (call: { args: unknown[] }) => got.errors.push(String(call.args[0])));
    return { got, folder };
  }

  it('one result: one mail to the GP (read back by Python and the readers) and the same files in the GP\'s folder', async () => {
    const server = await startSmtp();
    const { got, folder } = await load(server.port);
    const result = exampleResult();
    helper.getNode('message').receive({ payload: result });
    await waitUntil(() => got.mail.some((e) => e.state === 'accepted') && got.folder.some((e) => e.state === 'accepted'), 20_000, () => JSON.stringify({ mail: got.mail.map((e) => e.state), folder: got.folder.map((e) => e.state), errors: got.errors }));
    const accepted = got.mail.find((e) => e.state === 'accepted')!;
    expect(accepted).to.include({ destination: 'mail', resultId: result.id, ackCode: 'AA' });
    expect(server.messages()).to.have.length(1);
    const mail = parseMail(server.messages()[0]);
    expect(mail.headers['Message-ID']).to.equal(messageIdFor(accepted.controlId, FROM));
    expect(mail.headers['X-MSS-CODECDA']).to.equal('11502-2');
    const hprim = readHprimMedecin(mail.attachments[0].bytes);
    expect([hprim.patient.family, hprim.patient.given, hprim.recipientCode]).to.deep.equal(['NOËL', 'Hélène', 'LEFEVREB']);
    expect(hprim.results.map((r) => [r.value, r.unit, r.flags])).to.deep.equal([['12.4', 'G/L', ['H']], ['10.9', 'g/dL', ['L']], ['254', 'G/L', ['N']], ['<5', 'mg/L', ['N']]]);
    const xdm = await readXdm(mail.attachments[1].bytes);
    expect(xdm.documents[0].typeCode?.code).to.equal('11502-2');
    const dropped = readdirSync(join(folder, '10100987654')).sort();
    expect(dropped).to.deep.equal([mail.attachments[0].filename, 'IHE_XDM.ZIP'].sort());
    expect(readFileSync(join(folder, '10100987654', 'IHE_XDM.ZIP')).equals(mail.attachments[1].bytes)).to.equal(true);
    // The preliminary observation is listed, not dropped.
    expect(got.notSent).to.deep.equal([{ kind: 'not-sent', resultIds: [result.id], reason: 'observation MORPHO has status P, not final' }]);
    // (Catalogue keys, not texts: the test helper loads no message catalogue.)
    await waitUntil(() => statusesOf(helper.getNode('mail')).some((s) => s.fill === 'green' && s.text === 'passerelle-gp-mail-out.status.queue'), 5000, () => JSON.stringify(statusesOf(helper.getNode('mail'))));
  });

  it('a patient without a GP is listed on output 2 with the reason, and nothing is queued', async () => {
    const { got } = await load(await freePort());
    const result = exampleResult();
    delete result.patient!.gp;
    helper.getNode('message').receive({ payload: result });
    await waitUntil(() => got.notSent.some((n) => n.kind === 'without-gp'), 5000, () => JSON.stringify(got.notSent));
    expect(got.notSent.find((n) => n.kind === 'without-gp')).to.deep.include({ resultIds: [result.id], reason: "no GP known for this patient (none in the record's messages, none in the directory)" });
    expect(got.files).to.deep.equal([]);
    expect(statusesOf(helper.getNode('message')).pop()).to.deep.equal({ fill: 'yellow', shape: 'ring', text: 'passerelle-gp-message.status.counts' });
  });

  it('a server that refuses (550): a dead letter, an error for Catch nodes, nothing delivered', async () => {
    const server = await startSmtp('reject');
    const { got } = await load(server.port);
    helper.getNode('message').receive({ payload: exampleResult() });
    await waitUntil(() => got.mail.some((e) => e.state === 'dead'), 20_000, () => JSON.stringify(got.mail.map((e) => e.state)));
    expect(got.mail.find((e) => e.state === 'dead')!.reason).to.match(/550 5\.1\.1/);
    expect(got.errors.some((e) => e.includes('passerelle-gp-mail-out.errors.dead'))).to.equal(true);
    expect(server.messages()).to.deep.equal([]);
  });

  it('a bounce in msg.bounce turns the mail it names into a dead letter; something else in msg.bounce is a clear error', async () => {
    const server = await startSmtp();
    const { got } = await load(server.port);
    helper.getNode('message').receive({ payload: exampleResult() });
    await waitUntil(() => got.mail.some((e) => e.state === 'accepted'), 20_000, () => JSON.stringify(got.mail.map((e) => e.state)));
    const accepted = got.mail.find((e) => e.state === 'accepted')!;
    const dsn = readFileSync(join(ROOT, 'test', 'adapters', 'gp', 'bounce.eml'), 'latin1').replace(/__MESSAGE_ID__/g, messageIdFor(accepted.controlId, FROM));
    helper.getNode('mail').receive({ bounce: Buffer.from(dsn, 'latin1') });
    await waitUntil(() => got.mail.some((e) => e.state === 'dead'), 5000, () => JSON.stringify(got.mail.map((e) => e.state)));
    expect(got.mail.find((e) => e.state === 'dead')).to.deep.include({ outboundId: accepted.outboundId, reason: 'bounced: 5.1.1 (550 5.1.1 <benoit.lefevre@medecin.mssante.fr>: Recipient address rejected: User unknown)' });
    helper.getNode('mail').receive({ bounce: 'Subject: hello\r\n\r\nnot a report' });
    await waitUntil(() => got.errors.some((e) => e.includes('passerelle-gp-mail-out.errors.invalid')), 5000, () => JSON.stringify(got.errors));
  });

  it('bad configuration and input: a directory that is not valid, a sender mailbox that is not one, something that is not a result', async () => {
    const { got } = await load(await freePort(), { from: 'passerelle@site' }, { source: 'inline', json: '{"schema": "passerelle.gp-directory/1", "doctors": [{"rpps": "123"}]}' });
    expect(statusesOf(helper.getNode('mail')).pop()).to.deep.include({ fill: 'grey', text: 'passerelle-gp-mail-out.status.not-configured' });
    const mailNode = helper.getNode('mail') as unknown as { error: { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> } };
    // Said while the node started, before this test listened: read from the spy.
    expect(mailNode.error.getCalls().some((c) => c.thisValue === mailNode && String(c.args[0]).includes('passerelle-gp-mail-out.errors.from'))).to.equal(true);
    helper.getNode('message').receive({ payload: exampleResult() });
    await waitUntil(() => got.errors.some((e) => e.includes('passerelle-gp-message.errors.invalid') || e.includes('passerelle-gp-directory.errors.invalid')), 5000, () => JSON.stringify(got.errors));
    helper.getNode('message').receive({ payload: { schema: 'nope' } });
    await waitUntil(() => got.errors.filter((e) => e.includes('passerelle-gp-')).length >= 3, 5000, () => JSON.stringify(got.errors));
    expect(got.files).to.deep.equal([]);
  });

  /** A teleconsultation's vitals for the documented patient (NOËL Hélène, GP Dr LEFÈVRE). */
  const teleconsultation = (): Result => validateResult(vitalsResult({
    id: `gp-node-vitals-${process.pid}-${++fresh}`,
    patient: exampleResult().patient,
    encounter: { id: 'TLC-2026-0042' },
    observations: [
      toObservation({ quantity: 'spo2', value: 97, unit: '%', time: '2026-11-23T10:05:00+01:00' }),
      toObservation({ quantity: 'body-temperature', value: 38.4, unit: 'Cel', time: '2026-11-23T10:05:00+01:00' }),
    ],
  }, { site: 'cso-annecy', deviceId: 'cart-1', deviceClass: 'cart', protocol: 'cart-json', receivedAt: new Date('2026-11-23T09:06:00Z') }));

  it("the editor's rules change what is sent: a teleconsultation is held by default, mailed in HPRIM Médecin once 'Teleconsultation' is ticked (never in the CDA)", async () => {
    const server = await startSmtp();
    // As every flow made before the rules: no rule set, biology only.
    let { got } = await load(server.port);
    const held = teleconsultation();
    helper.getNode('message').receive({ payload: held });
    await waitUntil(() => got.notSent.length > 0, 5000, () => JSON.stringify(got.notSent));
    expect(got.notSent).to.deep.equal([{ kind: 'not-sent', resultIds: [held.id], reason: 'teleconsultation vitals are not sent to the GP (rule off in "GP message")' }]);
    expect(got.files).to.deep.equal([]);
    await helper.unload();

    // The technician ticks "Teleconsultation" and unticks "Biology".
    ({ got } = await load(server.port, {}, { source: 'inline', json: DIRECTORY }, { sendBiology: false, sendVitals: true }));
    const sent = teleconsultation();
    const biology = exampleResult();
    helper.getNode('message').receive({ payload: [sent, biology] });
    await waitUntil(() => got.mail.some((e) => e.state === 'accepted'), 20_000, () => JSON.stringify({ mail: got.mail.map((e) => e.state), errors: got.errors }));
    expect(server.messages()).to.have.length(1);
    const mail = parseMail(server.messages()[0]);
    expect(mail.headers.Subject).to.equal('Compte rendu de téléconsultation - CSNP Annecy');
    expect(mail.headers['X-MSS-CODECDA']).to.equal(undefined);
    expect(mail.attachments.map((a) => a.filename)).to.have.length(1);
    const hprim = readHprimMedecin(mail.attachments[0].bytes);
    expect([hprim.patient.family, hprim.patient.given, hprim.text[0]]).to.deep.equal(['NOËL', 'Hélène', 'COMPTE RENDU DE TELECONSULTATION']);
    expect(hprim.results.map((r) => [r.code, r.value, r.unit])).to.deep.equal([['2708-6', '97', '%'], ['8310-5', '38.4', 'Cel']]);
    expect(got.notSent.map((n) => [n.resultIds[0], n.reason])).to.deep.equal([
      [sent.id, 'cda-crbio: cda-crbio is a biology format: it does not carry a teleconsultation summary'],
      [biology.id, 'biology results are not sent to the GP (rule off in "GP message")'],
    ]);
  });

  it('a teleconsultation for a GP whose only format is the CDA: listed on output 2 as not sent, with the reason, nothing queued', async () => {
    const cdaOnly = DIRECTORY.replace('"formats":["hprim-medecin","cda-crbio"]', '"formats":["cda-crbio"]');
    expect(cdaOnly).to.not.equal(DIRECTORY);
    const { got } = await load(await freePort(), {}, { source: 'inline', json: cdaOnly }, { sendVitals: true });
    const result = teleconsultation();
    helper.getNode('message').receive({ payload: result });
    await waitUntil(() => got.notSent.length > 0, 5000, () => JSON.stringify({ notSent: got.notSent, errors: got.errors }));
    expect(got.notSent).to.have.length(1);
    expect(got.notSent[0]).to.deep.include({ kind: 'not-sent', resultIds: [result.id], reason: 'no file could be written for this GP: cda-crbio: cda-crbio is a biology format: it does not carry a teleconsultation summary' });
    expect((got.notSent[0] as { documentId?: string }).documentId).to.be.a('string');
    expect(got.files).to.deep.equal([]);
    expect(got.errors).to.deep.equal([]);
  });

  it('rules that send nothing: the node says so and is not configured', async () => {
    await helper.load([messageNode], [{ id: 'message', type: 'passerelle-gp-message', ...SENDER, sendBiology: false, sendVitals: false, sendImaging: false }]);
    expect(statusesOf(helper.getNode('message')).pop()).to.deep.include({ fill: 'grey', text: 'passerelle-gp-message.status.nothing-sent' });
  });

  it('a GP message node without its sending site is not configured and says what to give', async () => {
    await helper.load([messageNode], [{ id: 'message', type: 'passerelle-gp-message', organizationId: '', organizationName: '' }]);
    expect(statusesOf(helper.getNode('message')).pop()).to.deep.include({ fill: 'grey', text: 'passerelle-gp-message.status.not-configured' });
  });

  it('the example flow (examples/11-results-to-the-gp.json) runs: its result reaches the GP by mail and in the folder', async () => {
    const server = await startSmtp();
    const folder = join(work.dir, 'example-drop');
    const flow = (JSON.parse(readFileSync(join(ROOT, 'examples', '11-results-to-the-gp.json'), 'utf8')) as Array<Record<string, unknown>>).map((n) => {
      if (n.type === 'passerelle-gp-mail-out') return { ...n, smtp: `127.0.0.1:${server.port}`, from: FROM, caFile: cert.certFile, certFile: '', keyFile: '', nil: 'X', bus: '', wires: [['events']] };
      if (n.type === 'passerelle-gp-folder-out') return { ...n, folder, bus: '', wires: [['events']] };
      if (n.type === 'passerelle-gp-message') return { ...n, bus: '' };
      return n;
    }).filter((n) => n.type !== 'passerelle-bus');
    const events: DeliveryEvent[] = [];
    await helper.load([directoryNode, messageNode, mailOutNode, folderOutNode, require('@node-red/nodes/core/common/20-inject.js'), require('@node-red/nodes/core/common/21-debug.js'), require('@node-red/nodes/core/common/25-catch.js'), require('@node-red/nodes/core/common/90-comment.js')],
      [...flow, { id: 'events', type: 'helper', z: 'ex09-tab' }]);
    helper.getNode('events').on('input', (m: { payload: DeliveryEvent }) => events.push(m.payload));
    (helper.getNode('ex09-inject') as unknown as { receive(msg: object): void }).receive({});
    await waitUntil(() => events.filter((e) => e.state === 'accepted').length === 2, 20_000, () => JSON.stringify(events.map((e) => `${e.destination}:${e.state}:${e.reason ?? ''}`)));
    expect(server.messages()).to.have.length(1);
    expect(readdirSync(join(folder, '10100987654'))).to.have.length(2);
  });
});
