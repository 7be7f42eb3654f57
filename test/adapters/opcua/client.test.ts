/**
 * The OPC UA client and the LADS follower against a real OPC UA server: node-opcua's server stack
 * (simulators/opcua.ts, with the OPC Foundation's LADS, DI and Machinery nodesets) started by the
 * tests on a random loopback port. Nothing is mocked.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import {
  getLadsProfile, LadsFollower, mapLadsResult, OpcuaConfigError, OpcuaConnection, VariableWatch,
  type ConnectionState, type LadsResultSnapshot, type LadsStateChange, type OpcuaClientOptions, type VariableChange,
} from '../../../adapters/opcua';
import { SimulatedInstrument } from '../../../simulators/opcua';
import { waitUntil } from '../../support/hub-process';
import { freePort, tempDir } from '../../support/net';

const CONTEXT = { site: 'test-site', deviceId: 'lads-sim-1', deviceClass: 'analyser', timeZone: 'Europe/Paris' };

describe('OPC UA client and LADS follower against a node-opcua server', function () {
  this.timeout(60_000);
  const pki = tempDir('passerelle-opcua-');
  let instrument: SimulatedInstrument;
  let port: number;
  const open: Array<{ close(): Promise<void> }> = [];
  const opensslConf = process.env.OPENSSL_CONF;

  const connect = (extra: Partial<OpcuaClientOptions> = {}) => {
    const connection = new OpcuaConnection({
      endpointUrl: instrument.endpointUrl, securityMode: 'None', securityPolicy: 'None', auth: { kind: 'anonymous' },
      pkiDir: join(pki.dir, 'client'), reconnect: { initialDelayMs: 100, maxDelayMs: 500 }, ...extra,
    });
    open.push(connection);
    return connection;
  };

  before(async () => {
    port = await freePort();
    instrument = await new SimulatedInstrument({ port, pkiDir: join(pki.dir, 'server'), users: { biomed: 's3cret' } }).start();
  });
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });
  after(async () => {
    await instrument.stop();
    pki.remove();
  });

  it('watches chosen variables: one change per value, with its source timestamp and status', async () => {
    const connection = connect();
    await connection.start();
    const watch = new VariableWatch(connection, [{ nodeId: 'ns=1;s=Plain.Temperature', name: 'temperature' }, { nodeId: 'nsu=urn:passerelle:simulator:opcua;s=Plain.Status' }]);
    open.unshift(watch);
    const changes: VariableChange[] = [];
    watch.on('change', (c: VariableChange) => changes.push(c));
    watch.start();
    await waitUntil(() => changes.length >= 2, 10_000, () => 'the initial values');
    expect(changes.find((c) => c.name === 'temperature')).to.deep.include({ value: 21.5, dataType: 'Double', status: 'Good' });
    const measuredAt = new Date('2026-12-01T08:30:00.250Z');
    instrument.setVariable('Temperature', 37.2, measuredAt);
    await waitUntil(() => changes.some((c) => c.value === 37.2), 10_000, () => 'the new temperature');
    expect(changes.find((c) => c.value === 37.2)).to.deep.include({ nodeId: 'ns=1;s=Plain.Temperature', sourceTimestamp: measuredAt.toISOString(), status: 'Good' });
    expect(changes.find((c) => c.nodeId.startsWith('nsu='))).to.deep.include({ name: 'nsu=urn:passerelle:simulator:opcua;s=Plain.Status', value: 'ready' });
  });

  it('follows the LADS device: its states, and a new result as a canonical result with specimen id, LOINC codes, values and units', async () => {
    const connection = connect();
    const snapshots: LadsResultSnapshot[] = [];
    const states: LadsStateChange[] = [];
    const follower = new LadsFollower(connection, { pollIntervalMs: 60_000, since: new Date() }, async (s) => { snapshots.push(s); });
    open.unshift(follower);
    follower.on('state', (s: LadsStateChange) => states.push(s));
    follower.start();
    await connection.start();
    await waitUntil(() => states.some((s) => s.scope === 'device'), 10_000, () => 'the device state');
    expect(follower.current).to.deep.include({ name: 'Analyser', manufacturer: 'Passerelle', model: 'LADS simulator', serial: 'SIM-0001' });
    expect(follower.current!.functionalUnits.map((u) => u.name)).to.deep.equal(['Photometer']);
    expect(states.find((s) => s.scope === 'device')!.state).to.equal('Operate');

    const published = instrument.publishResult({ specimenId: 'SPL-4711', values: [{ name: 'Glucose', value: 6.1, unit: 'mmol/L' }, { name: 'CRP', value: '<5', unit: 'mg/L' }, { name: 'Hemoglobin', value: 14.2, unit: 'g/dL' }] });
    await waitUntil(() => snapshots.length === 1, 10_000, () => 'the result');
    const snapshot = snapshots[0];
    expect(snapshot.result).to.deep.include({ name: published.name, deviceProgramRunId: published.runId, supervisoryJobId: published.jobId, stopped: published.stopped.toISOString() });
    expect(snapshot.result.samples).to.deep.equal([{ sampleId: 'SPL-4711', containerId: published.samples[0].containerId, position: '1' }]);
    expect(snapshot.files).to.deep.equal([{ nodeId: snapshot.files[0].nodeId, name: 'report.pdf', mimeType: 'application/pdf', url: published.files[0].url }]);

    const { results, warnings } = mapLadsResult(snapshot, getLadsProfile('passerelle-simulator'), { ...CONTEXT, receivedAt: new Date() });
    expect(warnings).to.deep.equal([]);
    expect(results).to.have.length(1);
    const [result] = results;
    expect(result).to.deep.include({ kind: 'biology', status: 'final', specimen: { id: 'SPL-4711' }, order: { placerNumber: published.jobId, fillerNumber: published.runId } });
    expect(result.source).to.deep.include({ deviceId: 'lads-sim-1', manufacturer: 'Passerelle', model: 'LADS simulator', serial: 'SIM-0001', protocol: 'opcua-lads' });
    expect(result.observations.map((o) => [o.code?.code, o.deviceCode.code, o.valueType, o.value, o.unit?.code, o.status])).to.deep.equal([
      ['15074-8', 'Glucose', 'NM', 6.1, 'mmol/L', 'F'],
      ['1988-5', 'CRP', 'SN', { comparator: '<', number: 5 }, 'mg/L', 'F'],
      ['718-7', 'Hemoglobin', 'NM', 14.2, 'g/dL', 'F'],
    ]);
    expect(states.filter((s) => s.scope === 'functional-unit').map((s) => s.state)).to.include('Stopped');
  });

  it('reconnects by itself when the server stops and comes back on the same port: the next result arrives, none lost or doubled', async () => {
    const connection = connect();
    const seen: ConnectionState[] = [];
    connection.on('state', (e: { state: ConnectionState }) => seen.push(e.state));
    const snapshots: LadsResultSnapshot[] = [];
    const follower = new LadsFollower(connection, { pollIntervalMs: 60_000 }, async (s) => { snapshots.push(s); });
    open.unshift(follower);
    follower.start();
    await connection.start();
    await waitUntil(() => snapshots.length === instrument.results.length, 10_000, () => 'the results already there');
    const before = snapshots.length;

    await instrument.stop();
    await waitUntil(() => seen.includes('lost'), 20_000, () => 'the connection lost');
    // A result made while the hub could not see the instrument, then the instrument restarts with its results.
    const history = instrument.results;
    instrument = await new SimulatedInstrument({ port, pkiDir: join(pki.dir, 'server'), users: { biomed: 's3cret' }, results: history }).start();
    const offline = instrument.publishResult({ specimenId: 'SPL-OFFLINE' });
    await waitUntil(() => connection.state === 'connected', 20_000, () => `reconnected (states: ${seen.join(', ')})`);
    await waitUntil(() => snapshots.length === before + 1, 10_000, () => 'the result made during the outage');
    const next = instrument.publishResult({ specimenId: 'SPL-NEXT' });
    await waitUntil(() => snapshots.length === before + 2, 10_000, () => 'the next result');
    expect(snapshots.slice(before).map((s) => s.result.name)).to.deep.equal([offline.name, next.name]);
    expect(new Set(snapshots.map((s) => s.result.nodeId)).size, 'no result twice').to.equal(snapshots.length);
    // 'reconnecting' comes only with a retry that waits: a server back at once is reconnected at the first try.
    expect(seen.slice(0, 3)).to.deep.equal(['connecting', 'connected', 'lost']);
    expect(seen.at(-1)).to.equal('connected');
    expect(seen.slice(3).every((s) => s === 'reconnecting' || s === 'connected')).to.equal(true);
  });

  it('a variable removed from the address space is a clear error on that variable; the others go on', async () => {
    const connection = connect();
    await connection.start();
    const watch = new VariableWatch(connection, [{ nodeId: 'ns=1;s=Plain.Counter', name: 'counter' }, { nodeId: 'ns=1;s=Plain.Temperature', name: 'temperature' }, { nodeId: 'ns=1;s=Plain.Nothing', name: 'nothing' }]);
    open.unshift(watch);
    const changes: VariableChange[] = [];
    const errors: Array<{ name: string; error: Error }> = [];
    watch.on('change', (c: VariableChange) => changes.push(c));
    watch.on('item-error', (e: { name: string; error: Error }) => errors.push(e));
    watch.start();
    await waitUntil(() => changes.some((c) => c.name === 'counter') && errors.some((e) => e.name === 'nothing'), 10_000, () => 'the counter and the error on the unknown node');
    instrument.removeVariable('Counter');
    await waitUntil(() => errors.some((e) => e.name === 'counter'), 10_000, () => 'the error on the removed variable');
    expect(errors.find((e) => e.name === 'counter')!.error.message).to.match(/^variable ns=1;s=Plain\.Counter \(counter\) is not in the address space of opc\.tcp:\/\/127\.0\.0\.1:\d+ \(BadNodeId(Unknown|Invalid)\)$/);
    expect(errors.find((e) => e.name === 'nothing')!.error.message).to.contain('ns=1;s=Plain.Nothing');
    instrument.setVariable('Temperature', 40.5);
    await waitUntil(() => changes.some((c) => c.name === 'temperature' && c.value === 40.5), 10_000, () => 'the temperature still watched');
  });

  it('SignAndEncrypt (Basic256Sha256) with a user name and password; a wrong password is a clear error', async () => {
    const connection = connect({ securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', auth: { kind: 'username', username: 'biomed', password: 's3cret' }, acceptUnknownServerCertificate: true });
    await connection.start();
    const dataValue = await connection.session()!.read({ nodeId: 'ns=1;s=Plain.Status' });
    expect(dataValue.value.value).to.equal('ready');
    const wrong = connect({ securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', auth: { kind: 'username', username: 'biomed', password: 'nope' }, acceptUnknownServerCertificate: true });
    let error: Error | undefined;
    await wrong.start().catch((err: Error) => { error = err; });
    expect(error?.message).to.equal('BadUserAccessDenied (0x801f0000)');
    expect(wrong.state).to.equal('failed');
  });

  it('a server certificate not trusted: refused (state failed, BadCertificateUntrusted), kept in rejected/; moved to trusted/, accepted', async () => {
    const pkiDir = join(pki.dir, 'strict-client');
    const states: Array<{ state: ConnectionState; error?: Error }> = [];
    const strict = connect({ securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', pkiDir });
    strict.on('state', (e: { state: ConnectionState; error?: Error }) => states.push(e));
    let error: Error | undefined;
    await strict.start().catch((err: Error) => { error = err; });
    expect(error?.message).to.contain('BadCertificateUntrusted');
    expect(states.map((e) => e.state)).to.deep.equal(['connecting', 'failed']);
    const [rejected] = readdirSync(join(pkiDir, 'rejected'));
    expect(rejected).to.match(/^Passerelle OPC UA instrument simulator.*\.pem$/);
    renameSync(join(pkiDir, 'rejected', rejected), join(pkiDir, 'trusted', 'certs', rejected));
    const trusting = connect({ securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', pkiDir });
    await trusting.start();
    expect((await trusting.session()!.read({ nodeId: 'ns=1;s=Plain.Status' })).value.value).to.equal('ready');
  });

  it('Sign (Aes128_Sha256_RsaOaep) with an X.509 user certificate made by openssl', async () => {
    const keyFile = join(pki.dir, 'user-key.pem');
    const certificateFile = join(pki.dir, 'user-cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=passerelle-user', '-keyout', keyFile, '-out', certificateFile], { stdio: 'pipe' });
    const connection = connect({ securityMode: 'Sign', securityPolicy: 'Aes128_Sha256_RsaOaep', auth: { kind: 'certificate', certificateFile, privateKeyFile: keyFile }, acceptUnknownServerCertificate: true });
    await connection.start();
    const dataValue = await connection.session()!.read({ nodeId: 'ns=1;s=Plain.Status' });
    expect(dataValue.value.value).to.equal('ready');
  });

  it('leaves OPENSSL_CONF as the process had it (node-opcua-crypto sets it to "undefined" when reading a key)', () => {
    expect(process.env.OPENSSL_CONF).to.equal(opensslConf);
  });

  it('refuses a configuration it cannot use, naming the setting', () => {
    expect(() => new OpcuaConnection({ endpointUrl: 'http://x', securityMode: 'None', securityPolicy: 'None', auth: { kind: 'anonymous' }, pkiDir: pki.dir })).to.throw(OpcuaConfigError, /endpoint "http:\/\/x" is not opc\.tcp/);
    expect(() => new OpcuaConnection({ endpointUrl: 'opc.tcp://h:4840', securityMode: 'Sign', securityPolicy: 'None', auth: { kind: 'anonymous' }, pkiDir: pki.dir })).to.throw(OpcuaConfigError, /mode None goes with policy None/);
  });
});
