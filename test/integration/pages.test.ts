/**
 * The hub's pages in a real headless Chromium, against the hub as a child process with a
 * login, its embedded broker and a simulated record: sign in, a result delivered during the
 * test appears live as accepted, a result without a patient is assigned from the page and
 * then reaches the record, the English switch, and a screenshot saved under test-output/.
 */
import { expect } from 'chai';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BusClient } from '../../adapters/bus';
import { Hl7Message } from '../../adapters/hl7';
import type { Result } from '../../adapters/model';
import { SimulatedRecord } from '../../simulators/record';
import { launchChromium, TEST_OUTPUT } from '../support/browser';
import { tempDir } from '../support/net';
import { startHubProcess, waitUntil, type HubProcess } from '../support/hub-process';

const USER = 'infirmière';
const PASSWORD = 'mot-de-passe-long';
const MQTT = { username: 'hub', password: 'secret-mqtt' };

function result(id: string, deviceId: string, patient?: Result['patient']): Result {
  return {
    schema: 'passerelle.result/1',
    id,
    kind: 'biology',
    status: 'final',
    source: { site: 'test-site', deviceClass: 'haematology', deviceId, model: 'Yumizen H500' },
    ...(patient ? { patient } : {}),
    specimen: { id: `S-${id}` },
    observations: [
      { code: { code: '718-7', system: 'LN', display: 'Hémoglobine' }, deviceCode: { code: 'HGB' }, valueType: 'NM', value: 13.2, unit: { code: 'g/dL' }, referenceRange: { low: 12, high: 16 }, status: 'F' },
      { code: { code: '777-3', system: 'LN', display: 'Plaquettes' }, deviceCode: { code: 'PLT' }, valueType: 'NM', value: 95, unit: { code: '10*9/L' }, referenceRange: { low: 150, high: 400 }, flags: ['L'], status: 'F' },
    ],
    // 09:41:07 in Paris (UTC+1 in November): the board shows the site's time, whatever the browser's zone.
    times: { collected: '2026-11-23T08:20:00Z', received: '2026-11-23T08:41:07Z' },
  };
}

const HELENE: Result['patient'] = {
  identifiers: [{ value: 'IPP-4471', type: 'PI', authority: 'HOSP' }],
  name: { family: 'LEFÈVRE', given: ['Hélène'] },
  birthDate: '1984-03-12',
  sex: 'F',
  matched: true,
  matchedBy: 'device',
};

describe('the hub pages in a real Chromium', function () {
  this.timeout(120_000);
  let data: ReturnType<typeof tempDir>;
  let record: SimulatedRecord;
  let hub: HubProcess;
  let bus: BusClient;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let token: string;
  /** Script errors and console errors (a CSP refusal shows there); failed loads are the login's own 401s. */
  const browserErrors: string[] = [];

  const publish = (r: Result) => bus.publish(`passerelle/v1/test-site/biology/${r.source.deviceId}/result`, JSON.stringify(r), { qos: 1 });
  const row = (id: string) => page.locator(`tr[data-result-id="${id}"]`);

  before(async () => {
    data = tempDir();
    mkdirSync(TEST_OUTPUT, { recursive: true });
    record = await new SimulatedRecord().start();
    hub = await startHubProcess(join(data.dir, 'hub'), {
      EHR_MLLP: `127.0.0.1:${record.port}`,
      PASSERELLE_ADMIN_USER: USER,
      PASSERELLE_ADMIN_PASSWORD: PASSWORD,
      MQTT_USERNAME: MQTT.username,
      MQTT_PASSWORD: MQTT.password,
    });
    const answer = await fetch(`${hub.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: USER, password: PASSWORD }),
    });
    token = ((await answer.json()) as { access_token: string }).access_token;
    await waitUntil(async () => (await fetch(`${hub.url}/passerelle/api/health`, { headers: { authorization: `Bearer ${token}` } })).status === 200, 30_000, () => `flows running:\n${hub.output()}`);
    bus = await BusClient.connect({ url: hub.mqttUrl, clientId: 'pages-test', ...MQTT });
    browser = await launchChromium();
    // A browser in New York: the times on the page must still be the site's (Europe/Paris).
    context = await browser.newContext({ locale: 'fr-FR', timezoneId: 'America/New_York', viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (err) => browserErrors.push(err.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) browserErrors.push(message.text());
    });
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await bus?.close();
    await hub?.stop();
    await record?.stop();
    data?.remove();
  });

  it('keeps the data behind the login: the API and its event stream answer 401 without a token', async () => {
    for (const path of ['results', 'unmatched', 'events', 'destinations']) {
      expect((await fetch(`${hub.url}/passerelle/api/${path}`)).status, path).to.equal(401);
    }
    const events = await fetch(`${hub.url}/passerelle/api/events`, { headers: { authorization: `Bearer ${token}` } });
    expect(events.headers.get('content-type')).to.match(/^text\/event-stream/);
    const reader = events.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).to.equal('event: ready\ndata: {"live":true}\n\n');
    await reader.cancel();
    const badPeriod = await fetch(`${hub.url}/passerelle/api/turnaround?days=0`, { headers: { authorization: `Bearer ${token}` } });
    expect(badPeriod.status).to.equal(400);
    expect(((await badPeriod.json()) as { error: string }).error).to.equal('days must be a whole number from 1 to 31');
  });

  it('asks for the editor login, says so on a wrong password, then shows the board in French', async () => {
    await page.goto(`${hub.url}/passerelle/board`);
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await page.locator('#content').isHidden()).to.equal(true);
    await page.fill('input[name=username]', USER);
    await page.fill('input[name=password]', 'pas le bon');
    await page.click('#login-form button[type=submit]');
    await page.locator('#login-error:visible').waitFor();
    expect(await page.textContent('#login-error')).to.equal('Identifiant ou mot de passe incorrect.');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.locator('body[data-loaded="true"]').waitFor();
    expect(await page.getAttribute('html', 'lang')).to.equal('fr');
    expect(await page.textContent('main h1')).to.equal('Résultats');
    expect(await page.isVisible('#login')).to.equal(false);
    expect(await page.textContent('#empty')).to.equal('Aucun résultat.');
    await page.locator('#live[data-state="on"]').waitFor();
  });

  it('shows a result delivered during the test, live, accepted by the record, at its Paris time', async () => {
    // Marks this document: a reload or a navigation would lose it.
    await page.evaluate(() => { (window as unknown as { marker: string }).marker = 'same page'; });
    await publish(result('r-live-1', 'yumizen-1', HELENE));
    await record.waitFor(1);
    await row('r-live-1').locator('[data-state="accepted"]').waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => (window as unknown as { marker: string }).marker)).to.equal('same page');
    const cells = await row('r-live-1').locator('td').allInnerTexts();
    expect(cells[0]).to.equal('23/11/2026 09:41:07');
    expect(cells[1]).to.equal('LEFÈVRE Hélène\nIPP-4471');
    expect(cells[2]).to.equal('Hémoglobine, Plaquettes');
    expect(cells[3]).to.equal('Yumizen H500\nyumizen-1');
    expect(cells[4]).to.equal('Accepté');
    expect(Hl7Message.parse(record.received[0].text).get('PID-5.1')).to.equal('LEFÈVRE');
  });

  it('filters by patient (accents and case ignored) and by device', async () => {
    const noel: Result['patient'] = { identifiers: [{ value: 'IPP-9120', type: 'PI', authority: 'HOSP' }], name: { family: 'NOËL', given: ['Gaëlle'] }, matched: true, matchedBy: 'device' };
    await publish(result('r-noel', 'pochi-2', noel));
    await row('r-noel').locator('[data-state="accepted"]').waitFor({ timeout: 15_000 });
    await page.fill('input[name=patient]', 'lefevre');
    await page.click('#filters button[type=submit]');
    await waitUntil(async () => (await page.locator('#results tbody tr').count()) === 1, 10_000, () => 'one row for lefevre');
    expect(await page.locator('#results tbody tr').getAttribute('data-result-id')).to.equal('r-live-1');
    expect(new URL(page.url()).searchParams.get('patient')).to.equal('lefevre');
    await page.click('#clear-filters');
    await page.fill('input[name=device]', 'pochi-2');
    await page.click('#filters button[type=submit]');
    await waitUntil(async () => (await page.locator('#results tbody tr').count()) === 1, 10_000, () => 'one row for pochi-2');
    expect(await page.locator('#results tbody tr').getAttribute('data-result-id')).to.equal('r-noel');
    await page.click('#clear-filters');
    await waitUntil(async () => (await page.locator('#results tbody tr').count()) === 2, 10_000, () => 'both rows again');
  });

  it('lists a result without a patient live, refuses an incomplete assignment, assigns it after review, and the board then shows it accepted', async () => {
    await page.click('nav a[data-nav="unmatched"]');
    await page.locator('body[data-loaded="true"]').waitFor();
    expect(await page.textContent('main h1')).to.equal('Résultats sans patient');
    await page.locator('#empty:visible').waitFor();
    await publish(result('r-held', 'yumizen-1'));
    const card = page.locator('article[data-result-id="r-held"]');
    await card.waitFor({ timeout: 15_000 });
    expect(await card.locator('.specimen').textContent()).to.equal('S-r-held');
    expect(await card.locator('.observations tbody tr').allInnerTexts()).to.deep.equal(['Hémoglobine\t13,2 g/dL\t12 – 16\t', 'Plaquettes\t95 10*9/L\t150 – 400\tL']);

    await page.screenshot({ path: join(TEST_OUTPUT, 'unmatched.png'), fullPage: true });
    await card.locator('button.check').click();
    expect(await card.locator('.error').textContent()).to.equal("L'identifiant du patient est obligatoire.");
    await card.locator('input[name=identifier]').fill('IPP-7788');
    await card.locator('button.check').click();
    expect(await card.locator('.error').textContent()).to.equal('Le nom de famille est obligatoire.');
    await card.locator('select[name=type]').selectOption('INS');
    await card.locator('input[name=family]').fill('DUPRÉ');
    await card.locator('button.check').click();
    expect(await card.locator('.error').textContent()).to.equal("L'INS compte 15 chiffres.");
    await card.locator('select[name=type]').selectOption('PI');
    await card.locator('input[name=authority]').fill('HOSP');
    await card.locator('input[name=given]').fill('Loïc');
    await card.locator('input[name=birthDate]').fill('1957-06-30');
    await card.locator('select[name=sex]').selectOption('M');
    await card.locator('button.check').click();
    expect(await card.locator('.error').isHidden()).to.equal(true);
    expect(await card.locator('.review .summary').textContent()).to.equal("Ce résultat ira dans le dossier de DUPRÉ Loïc (IPP IPP-7788). Vérifiez l'identité avant de confirmer.");
    expect(record.received).to.have.length(2);
    await card.locator('.review button.confirm').click();
    await page.locator('#notice:visible').waitFor();
    expect(await page.textContent('#notice')).to.equal('Résultat rattaché à DUPRÉ Loïc (IPP IPP-7788) : envoi au dossier en cours.');
    await card.waitFor({ state: 'detached' });

    await record.waitFor(3);
    const oru = Hl7Message.parse(record.received[2].text);
    expect(oru.get('PID-3.1')).to.equal('IPP-7788');
    expect(oru.get('PID-3.4')).to.equal('HOSP');
    expect(oru.get('PID-5.1')).to.equal('DUPRÉ');
    expect(oru.get('PID-7')).to.equal('19570630');
    expect(oru.get('SPM-2.1')).to.equal('S-r-held');

    await page.click('nav a[data-nav="board"]');
    await row('r-held').locator('[data-state="accepted"]').waitFor({ timeout: 15_000 });
    expect(await row('r-held').locator('td.patient').innerText()).to.equal('DUPRÉ Loïc\nIPP-7788');
    mkdirSync(TEST_OUTPUT, { recursive: true });
    const screenshot = join(TEST_OUTPUT, 'board.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(readFileSync(screenshot).subarray(1, 4).toString()).to.equal('PNG');
    console.log(`      screenshot: ${screenshot}`);
  });

  it('shows the turnaround key figures: deliveries, share within the 20-minute target, median and 90th percentile per device, the slowest', async () => {
    // Two results of one device collected 12 and 35 minutes ago: one within the biology target, one over it.
    const now = Date.now();
    for (const [id, minutes] of [['r-fast', 12], ['r-slow', 35]] as const) {
      const r = result(id, 'delai-1', { ...HELENE, identifiers: [{ value: `IPP-${id}`, type: 'PI', authority: 'HOSP' }] });
      r.times = { collected: new Date(now - minutes * 60_000).toISOString(), received: new Date(now).toISOString() };
      await publish(r);
    }
    // Accepted in the store (the board says so), not only received by the record.
    for (const id of ['r-fast', 'r-slow']) await row(id).locator('[data-state="accepted"]').waitFor({ timeout: 15_000 });
    await page.click('nav a[data-nav="turnaround"]');
    await page.locator('body[data-loaded="true"]').waitFor();
    expect(await page.textContent('main h1')).to.equal('Délais de rendu');
    // Seven days, so a run at midnight in Paris counts the same results.
    await page.selectOption('select[name=days]', '7');
    await waitUntil(async () => new URL(page.url()).searchParams.get('days') === '7' && (await page.locator('#devices tbody tr').count()) === 3, 10_000, () => 'figures for 7 days');
    const figures = (await page.locator('#figures .figure').allInnerTexts()).map((text) => text.replace(/\s+/g, ' '));
    // Five deliveries: the three of the tests above (collected the day before, so over target) and these two.
    expect(figures[0]).to.equal('Résultats livrés 5');
    expect(figures[1]).to.equal('Dans la cible 20 % 1 sur 5 (cible 20 min)');
    expect(figures[2]).to.match(/^Médiane \d+ h \d\d min prélèvement → dossier$/);
    expect(figures[4]).to.equal("Délai non mesurable 0 heure de prélèvement absente ou incohérente ; horloge d'appareil décalée : 0");
    const device = await page.locator('#devices tbody tr', { hasText: 'delai-1' }).locator('td').allInnerTexts();
    expect(device[1]).to.equal('2');
    expect(device[2]).to.match(/^23 min 3\d s$/); // (12 + 35) / 2, plus the delivery's own second or so
    expect(device[3]).to.match(/^35 min( 0\d s)?$/);
    const exams = await page.locator('#exams tbody tr').allInnerTexts();
    expect(exams).to.have.length(1);
    expect(exams[0]).to.match(/^Hémoglobine \(718-7\)\t5\t/);
    const slowest = await page.locator('#slowest tbody tr').allInnerTexts();
    expect(slowest).to.have.length(5);
    expect(slowest[3]).to.match(/\tdelai-1\t35 min( 0\d s)?\t20 min · dépassée$/);
    expect(slowest[4]).to.match(/\tdelai-1\t12 min( 0\d s)?\t20 min · tenue$/);
    await page.screenshot({ path: join(TEST_OUTPUT, 'turnaround.png'), fullPage: true });
  });

  it('switches to English and keeps English across the pages; the browser language chooses when nothing else does', async () => {
    await page.click('#language');
    await page.locator('body[data-loaded="true"]').waitFor();
    expect(await page.getAttribute('html', 'lang')).to.equal('en');
    expect(await page.textContent('main h1')).to.equal('Turnaround');
    expect(new URL(page.url()).searchParams.get('days')).to.equal('7');
    expect(await page.textContent('#language')).to.equal('Français');
    await page.click('nav a[data-nav="board"]');
    await page.locator('body[data-loaded="true"]').waitFor();
    expect(await page.textContent('main h1')).to.equal('Results');
    await row('r-held').locator('[data-state="accepted"]').waitFor();
    expect(await row('r-held').locator('td.delivery').innerText()).to.equal('Accepted');
    await page.click('nav a[data-nav="unmatched"]');
    await page.locator('body[data-loaded="true"]').waitFor();
    expect(await page.textContent('main h1')).to.equal('Results without a patient');
    expect(await page.textContent('#empty')).to.equal('No result waiting to be matched.');

    const html = async (acceptLanguage: string) => (await fetch(`${hub.url}/passerelle/board`, { headers: { 'accept-language': acceptLanguage } })).text();
    expect(await html('en-GB,en;q=0.9,fr;q=0.5')).to.contain('<html lang="en">');
    expect(await html('de-DE,de;q=0.9')).to.contain('<html lang="fr">');
    expect(await html('de,fr;q=0.8,en;q=0.7')).to.contain('<html lang="fr">');
    expect(browserErrors).to.deep.equal([]);
  });
});

describe('the hub pages in the loopback demo (no credentials)', function () {
  this.timeout(60_000);
  let data: ReturnType<typeof tempDir>;
  let hub: HubProcess;
  let browser: Browser;

  before(async () => {
    data = tempDir();
    hub = await startHubProcess(join(data.dir, 'hub'));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await hub?.stop();
    data?.remove();
  });

  it('opens without a login, as the rest of the demo', async () => {
    const page = await browser.newPage({ locale: 'fr-FR' });
    await page.goto(`${hub.url}/passerelle/`);
    await page.locator('body[data-loaded="true"]').waitFor();
    expect(new URL(page.url()).pathname).to.equal('/passerelle/board');
    expect(await page.isHidden('#login')).to.equal(true);
    expect(await page.isHidden('#logout')).to.equal(true);
    expect(await page.textContent('#empty')).to.equal('Aucun résultat.');
  });
});
