import { expect } from 'chai';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { tempDir } from '../support/net';
import { startHubProcess, waitUntil, type HubProcess } from '../support/hub-process';
import { launchChromium, TEST_OUTPUT } from '../support/browser';

/**
 * The node dialogs in the real Node-RED editor, in headless Chromium: every Passerelle type
 * registers (the shared resources/passerelle-editor.js loads before the dialogs that use it),
 * each field validator answers with the translated message, and a dialog opened from the site
 * flow shows its live tips.
 */
describe('the Passerelle node dialogs in the Node-RED editor (headless Chromium)', function () {
  this.timeout(120_000);
  let data: ReturnType<typeof tempDir>;
  let hub: HubProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    data = tempDir();
    hub = await startHubProcess(join(data.dir, 'hub'), { PASSERELLE_LANG: 'en-US' });
    await waitUntil(async () => (await fetch(`${hub.url}/passerelle/api/health`)).status === 200, 30_000, () => `healthy hub:\n${hub.output()}`);
    browser = await launchChromium();
    page = await browser.newPage({ locale: 'en-US' });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${hub.url}/`);
    await page.waitForFunction(() => {
      const RED = (window as unknown as { RED?: { nodes: { getType(t: string): unknown; filterNodes(f: object): unknown[] } } }).RED;
      return !!RED?.nodes.getType('passerelle-poct1a-in') && RED.nodes.filterNodes({ type: 'passerelle-hl7-in' }).length > 0;
    }, undefined, { timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
    await hub?.stop();
    data?.remove();
  });

  /** Runs a field's validator as the editor does: true, or the message it would show. */
  const validate = (type: string, prop: string, value: string, node: Record<string, unknown> = {}) =>
    page.evaluate(({ type, prop, value, node }) => {
      const RED = (window as unknown as { RED: { nodes: { getType(t: string): { defaults: Record<string, { validate(this: unknown, v: unknown, opt: object): unknown }> } } } }).RED;
      return RED.nodes.getType(type).defaults[prop].validate.call(node, value, { prop });
    }, { type, prop, value, node });

  it('registers every Passerelle node type the package declares without a script error', async () => {
    const declared = Object.keys((JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } })['node-red'].nodes);
    const types = await page.evaluate((names) => {
      const RED = (window as unknown as { RED: { nodes: { getType(t: string): unknown } } }).RED;
      return names.filter((t) => !!RED.nodes.getType(t));
    }, declared);
    expect(declared.length, "the package declares its nodes").to.be.at.least(18);
    expect(types).to.deep.equal(declared);
    expect(pageErrors).to.deep.equal([]);
  });

  it('answers with the translated message, arguments filled in, for each kind of field', async () => {
    expect(await validate('passerelle-hl7-in', 'port', '2575')).to.equal(true);
    expect(await validate('passerelle-hl7-in', 'port', '${MLLP_IN_PORT}')).to.equal(true);
    expect(await validate('passerelle-hl7-in', 'port', '70000')).to.equal('Expected a port from 1 to 65535, or ${MLLP_IN_PORT}.');
    expect(await validate('passerelle-poct1a-in', 'port', '0')).to.equal('Expected a port from 1 to 65535.');
    expect(await validate('passerelle-hl7-in', 'host', 'not a host')).to.equal('Expected a host name, an IP address (without brackets) or ${HOST}.');
    expect(await validate('passerelle-hl7-in', 'host', 'fd00::5')).to.equal(true);
    expect(await validate('passerelle-hl7-in', 'maxMessageBytes', '')).to.equal(true);
    expect(await validate('passerelle-hl7-in', 'maxMessageBytes', '12')).to.equal('Max. size: a whole number from 1024 to 104857600.');
    expect(await validate('passerelle-hl7-in', 'specimenFrom', 'placer')).to.equal(true);
    expect(await validate('passerelle-hl7-in', 'specimenFrom', 'barcode')).to.equal("Choose where the orders' specimen id is read.");
    expect(await validate('passerelle-hl7-in', 'application', 'A|B')).to.match(/separators/);
    expect(await validate('passerelle-to-record', 'topic', 'passerelle/v1/+/biology/#')).to.equal(true);
    expect(await validate('passerelle-to-record', 'topic', 'a/#/b')).to.be.a('string').and.not.equal('');
    expect(await validate('passerelle-to-record', 'ackTimeout', '1.5')).to.equal(true);
    expect(await validate('passerelle-to-record', 'format', '${EHR_VITALS_FORMAT}'), 'the site flow takes it from the environment').to.equal(true);
    expect(await validate('passerelle-to-record', 'format', 'hprim')).to.be.a('string');
    expect(await validate('passerelle-to-record', 'window', '1.5')).to.match(/^Window.*whole number from 1 to 100/);
    expect(await validate('passerelle-astm-in', 'receiveTimeout', '')).to.equal(true);
    expect(await validate('passerelle-astm-in', 'receiveTimeout', '700')).to.be.a('string');
    expect(await validate('passerelle-astm-in', 'port', 'x', { transport: 'serial' }), 'no port on a serial line').to.equal(true);
    expect(await validate('passerelle-astm-in', 'host', '', { transport: 'tcp-connect' }), 'connecting out needs a host').to.be.a('string');
    expect(await validate('passerelle-poct1a-in', 'idleTimeout', '-1')).to.be.a('string');
    expect(await validate('passerelle-poct1a-in', 'deviceId', '', { deviceIdFrom: 'hel' })).to.equal(true);
    expect(await validate('passerelle-poct1a-in', 'deviceId', '', { deviceIdFrom: 'prefix' })).to.be.a('string');
    expect(await validate('passerelle-photo-in', 'folder', '')).to.equal(true);
    expect(await validate('passerelle-photo-in', 'folder', '${PHOTO_FOLDER}')).to.equal(true);
    expect(await validate('passerelle-photo-in', 'folder', 'photos')).to.equal('An absolute path (/srv/passerelle/photos), ${VARIABLE}, or empty for no folder.');
    expect(await validate('passerelle-photo-in', 'aeTitle', '${DICOM_AET}')).to.equal(true);
    expect(await validate('passerelle-photo-in', 'aeTitle', 'A\\B')).to.equal('1 to 16 characters, no backslash, or ${DICOM_AET}.');
    // GP message rules: at least one kind of report goes.
    expect(await validate('passerelle-gp-message', 'sendBiology', 'false', { sendVitals: true, sendImaging: false })).to.equal(true);
    expect(await validate('passerelle-gp-message', 'sendImaging', 'false', { sendBiology: false, sendVitals: false })).to.equal('Choose at least one kind of result to send (biology, teleconsultation or imaging).');
  });

  it('OPC UA: the three types register, and their validators answer', async () => {
    const types = await page.evaluate(() => {
      const RED = (window as unknown as { RED: { nodes: { getType(t: string): unknown } } }).RED;
      return ['passerelle-opcua-client', 'passerelle-opcua-in', 'passerelle-lads-in'].filter((t) => !!RED.nodes.getType(t));
    });
    expect(types).to.have.length(3);
    expect(await validate('passerelle-opcua-client', 'endpoint', 'opc.tcp://10.0.3.7:4840/lads')).to.equal(true);
    expect(await validate('passerelle-opcua-client', 'endpoint', '${OPCUA_ENDPOINT}')).to.equal(true);
    expect(await validate('passerelle-opcua-client', 'endpoint', 'http://10.0.3.7')).to.equal('opc.tcp://host:port[/path], or a whole ${VARIABLE}.');
    expect(await validate('passerelle-opcua-client', 'securityPolicy', 'None', { securityMode: 'SignAndEncrypt' })).to.match(/^Mode None goes with policy None/);
    expect(await validate('passerelle-opcua-client', 'certificateFile', '', { auth: 'certificate' })).to.equal('The path of a PEM file on the hub.');
    expect(await validate('passerelle-opcua-client', 'certificateFile', '', { auth: 'anonymous' })).to.equal(true);
    expect(await validate('passerelle-opcua-in', 'variables', 'ns=2;s=Temperature temperature\n# comment\nnsu=urn:x;i=5')).to.equal(true);
    expect(await validate('passerelle-opcua-in', 'variables', 'Temperature')).to.match(/^One node id a line/);
    expect(await validate('passerelle-opcua-in', 'samplingInterval', '5')).to.equal('A sampling interval from 10 to 3,600,000 ms.');
    expect(await validate('passerelle-lads-in', 'deviceId', 'lads/1')).to.match(/^Letters, digits/);
    expect(await validate('passerelle-lads-in', 'deviceNode', '')).to.equal(true);
    expect(await validate('passerelle-lads-in', 'deviceNode', 'Analyser')).to.match(/^Empty, or an OPC UA node id/);
    expect(await validate('passerelle-lads-in', 'pollInterval', '0')).to.equal('From 1 to 3,600 seconds.');
    expect(pageErrors).to.deep.equal([]);
  });

  it('opens the HL7 in dialog of the site flow with its reachability tip following the address', async () => {
    await page.evaluate(() => {
      const RED = (window as unknown as { RED: { nodes: { filterNodes(f: object): unknown[] }; editor: { edit(n: unknown): void } } }).RED;
      RED.editor.edit(RED.nodes.filterNodes({ type: 'passerelle-hl7-in' })[0]);
    });
    const tip = page.locator('#passerelle-hl7-in-host-tip');
    await tip.waitFor();
    expect(await tip.innerText()).to.contain('Taken from the environment'); // the site flow listens on ${HOST}
    await page.fill('#node-input-host', '0.0.0.0');
    await page.dispatchEvent('#node-input-host', 'keyup');
    await waitUntil(async () => (await tip.innerText()).includes('every network'), 5000, () => 'the tip for 0.0.0.0');
    expect(await page.locator('#node-input-specimenFrom').inputValue()).to.equal('spm,filler');
    mkdirSync(TEST_OUTPUT, { recursive: true });
    const shot = resolve(TEST_OUTPUT, 'editor-hl7-in.png');
    await page.screenshot({ path: shot });
    console.log(`      screenshot: ${shot}`);
    expect(pageErrors).to.deep.equal([]);
  });
});
