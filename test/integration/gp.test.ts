/**
 * Results to the GP through the RUNNING hub (the site flow, started as `passerelle` is, with
 * GP_SMTP and friends set): a result published on the hub's bus reaches the GP's mailbox on a
 * real SMTP server (python3-aiosmtpd, STARTTLS required, the test certificate as GP_SMTP_CA) and
 * the GP's folder in GP_DROP_DIR; Python's `email` package and the readers read it back. With
 * the server down, the hub killed -9 and started again, the mail goes once the server is up, once.
 */
import { expect } from 'chai';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BusClient } from '../../adapters/bus';
import { readHprimMedecin, readCdaCrBio } from '../../adapters/gp';
import { readXdm } from '../../adapters/gp/xdm';
import { makeCertificate, type Certificate } from '../support/certificate';
import { httpStatus, startHubProcess, waitUntil, type HubProcess } from '../support/hub-process';
import { freePort, tempDir } from '../support/net';
import { parseMail, SmtpServer } from '../support/smtp';

const ROOT = join(__dirname, '..', '..', '..');
const RESULT_TOPIC = 'passerelle/v1/test-site/biology/yumizen-h500-1/result';
const FROM = 'passerelle@cso-annecy.mssante.fr';

function result(id: string): string {
  return JSON.stringify({ ...JSON.parse(readFileSync(join(ROOT, 'docs', 'schema', 'result.example.json'), 'utf8')), id });
}

describe('results to the GP through the running hub (site flow)', function () {
  this.timeout(120_000);
  let work: ReturnType<typeof tempDir>;
  let cert: Certificate;
  let hub: HubProcess | undefined;
  let smtp: SmtpServer | undefined;
  let env: Record<string, string>;

  beforeEach(async () => {
    work = tempDir('passerelle-gp-hub-');
    cert = makeCertificate(work.dir);
    const directory = join(work.dir, 'gp-directory.json');
    writeFileSync(directory, JSON.stringify({
      schema: 'passerelle.gp-directory/1',
      doctors: [{ rpps: '10100987654', name: { family: 'LEFÈVRE', given: ['Benoît'], prefix: 'Dr' }, mailbox: 'benoit.lefevre@medecin.mssante.fr', formats: ['hprim-medecin', 'cda-crbio'], hprimCode: 'LEFEVREB' }],
    }));
    env = {
      GP_SMTP: `127.0.0.1:${await freePort()}`, GP_SMTP_FROM: FROM, GP_SMTP_CA: cert.certFile, GP_MSS_NIL: 'PASSERELLE-IT',
      GP_DIRECTORY: directory, GP_DROP_DIR: join(work.dir, 'drop'),
      GP_SENDER_FINESS: '740012345', GP_SENDER_NAME: 'CSNP Annecy', GP_SENDER_RPPS: '10101111111', GP_SENDER_FAMILY: 'ROUSSEAU', GP_SENDER_GIVEN: 'Maëlle', GP_HPRIM_CODE: 'CSOANNECY',
    };
  });
  afterEach(async () => {
    await hub?.stop();
    hub = undefined;
    await smtp?.stop();
    smtp = undefined;
    work.remove();
  });

  const startSmtp = async () => {
    const dir = join(work.dir, 'smtp');
    mkdirSync(dir, { recursive: true });
    smtp = await SmtpServer.start({ port: Number(env.GP_SMTP.split(':')[1]), dir, certFile: cert.certFile, keyFile: cert.keyFile });
    return smtp;
  };
  const startHub = async () => {
    hub = await startHubProcess(join(work.dir, 'data'), env);
    const h = hub;
    // Healthy (200) once every durable subscription is in place: a result published before would find none.
    await waitUntil(async () => (await httpStatus(`${h.url}/passerelle/api/health`)) === 200, 30_000, () => `hub not ready:\n${h.output()}`);
    return h;
  };
  const gpMails = async (h: HubProcess) => {
    const res = await fetch(`${h.url}/passerelle/api/outbound?destination=site-gp-mail-out`);
    return ((await res.json()) as { messages: Array<{ state: string; resultId?: string; lastError?: string }> }).messages;
  };
  const publish = async (h: HubProcess, id: string) => {
    const client = await BusClient.connect({ url: h.mqttUrl, clientId: `gp-it-${id}` });
    try {
      await client.publish(RESULT_TOPIC, result(id));
    } finally {
      await client.close();
    }
  };

  it('a result on the bus: one mail to the GP (HPRIM Médecin and the CR-BIO in IHE_XDM.ZIP, read back exactly), the same files in the GP\'s folder, the delivery on the bus', async () => {
    const server = await startSmtp();
    const h = await startHub();
    const watcher = await BusClient.connect({ url: h.mqttUrl, clientId: 'gp-it-watcher' });
    const deliveries: Array<{ destination: string; state: string }> = [];
    // The result's own site and device (the example's: cso-annecy), as every destination publishes them.
    await watcher.subscribeDurable('passerelle/v1/+/biology/yumizen-h500-1/delivery', async (_t, payload) => { deliveries.push(JSON.parse(payload.toString())); });
    try {
      await publish(h, 'gp-it-1');
      await waitUntil(() => deliveries.some((d) => d.destination === 'site-gp-mail-out' && d.state === 'accepted') && deliveries.some((d) => d.destination === 'site-gp-folder-out' && d.state === 'accepted'),
        30_000, () => `deliveries: ${JSON.stringify(deliveries)}\n${h.output()}`);
    } finally {
      await watcher.close();
    }
    expect(server.messages()).to.have.length(1);
    const mail = parseMail(server.messages()[0]);
    expect([mail.headers['From'], mail.headers['To'], mail.headers['X-MSS-NIL'], mail.headers['X-MSS-CODECDA'], mail.headers['X-MSS-INS']])
      .to.deep.equal([FROM, 'benoit.lefevre@medecin.mssante.fr', 'PASSERELLE-IT', '11502-2', 'O']);
    const hprim = readHprimMedecin(mail.attachments[0].bytes);
    expect([hprim.patient.family, hprim.patient.given, hprim.recipientCode, hprim.recipientLabel]).to.deep.equal(['NOËL', 'Hélène', 'LEFEVREB', 'Dr LEFÈVRE Benoît']);
    expect(hprim.results.map((r) => [r.code, r.value, r.unit, r.low, r.high, r.flags])).to.deep.equal([
      ['6690-2', '12.4', 'G/L', '4', '10', ['H']], ['718-7', '10.9', 'g/dL', '12', '16', ['L']], ['777-3', '254', 'G/L', '150', '400', ['N']], ['1988-5', '<5', 'mg/L', undefined, '5', ['N']],
    ]);
    const cda = readCdaCrBio((await readXdm(mail.attachments[1].bytes)).documents[0].bytes);
    expect([cda.patient.family, cda.prescriber?.family, cda.gp?.family]).to.deep.equal(['NOËL', 'CŒURDEROY', 'LEFÈVRE']);
    expect(cda.results.map((r) => [r.code, r.value, r.unit, r.low, r.high, r.flags])).to.deep.equal([
      ['6690-2', '12.4', '10*9/L', '4', '10', ['H']], ['718-7', '10.9', 'g/dL', '12', '16', ['L']], ['777-3', '254', '10*9/L', '150', '400', ['N']], ['1988-5', '<5', 'mg/L', undefined, '5', ['N']],
    ]);
    expect(readdirSync(join(env.GP_DROP_DIR, '10100987654')).sort()).to.deep.equal([mail.attachments[0].filename, 'IHE_XDM.ZIP'].sort());
    expect((await gpMails(h)).map((m) => [m.state, m.resultId])).to.deep.equal([['accepted', 'gp-it-1']]);
    // The results board names both destinations.
    const named = ((await (await fetch(`${h.url}/passerelle/api/destinations`)).json()) as { destinations: Array<{ id: string; name: string }> }).destinations;
    expect(named.filter((d) => d.id.startsWith('site-gp-'))).to.deep.equal([{ id: 'site-gp-mail-out', name: 'GP (secure mail)' }, { id: 'site-gp-folder-out', name: 'GP (folder drop)' }]);
  });

  it('the mail server down, the hub killed -9 and started again: the mail goes once the server is up, exactly once', async () => {
    let h = await startHub();
    await publish(h, 'gp-it-2');
    await waitUntil(async () => (await gpMails(h)).some((m) => m.state === 'waiting' && /unreachable|ECONNREFUSED/.test(m.lastError ?? '')), 30_000, () => h.output());
    await h.kill9();
    hub = undefined;
    const server = await startSmtp();
    h = await startHub();
    await waitUntil(async () => (await gpMails(h)).some((m) => m.state === 'accepted'), 60_000, () => h.output());
    expect(server.messages()).to.have.length(1);
    expect((await gpMails(h)).map((m) => m.state)).to.deep.equal(['accepted']);
    expect(parseMail(server.messages()[0]).headers['To']).to.equal('benoit.lefevre@medecin.mssante.fr');
  });
});
