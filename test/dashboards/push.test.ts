/**
 * `npm run dashboards:push` as a site runs it (node dist/dashboards/push.js, configured by
 * environment variables) against a stand-in for Grafana's HTTP API (grafana-stand-in.ts): no
 * Grafana runs here, it is not in Debian and there is no network to fetch it.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DATASOURCE_UID, FOLDER, readDashboardFiles } from '../../dashboards/files';
import { freePort } from '../support/net';
import { startGrafanaStandIn, type GrafanaStandIn } from './grafana-stand-in';

// js-yaml comes with mocha (a dev dependency); only tests read the provisioning YAML.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { load(text: string): unknown };

const PUSH = resolve(__dirname, '..', '..', 'dashboards', 'push.js');
const REPO = resolve(__dirname, '..', '..', '..');
const TOKEN = 'glsa_passerelle_0123456789abcdef';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function push(env: Record<string, string>, args: string[] = []): Promise<Run> {
  return new Promise((resolveRun) => {
    execFile(process.execPath, [PUSH, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) => {
      resolveRun({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const INFLUX_ENV = {
  GRAFANA_INFLUX_URL: 'http://influxdb:8086',
  INFLUX_DB: 'passerelle',
  INFLUX_READ_USERNAME: 'grafana',
  INFLUX_READ_PASSWORD: 'lecture-seule',
};

/** The provisioning file with ${VAR}s replaced, as Grafana reads it at start (less what only provisioning sets). */
function provisionedDatasource(env: Record<string, string>): Record<string, unknown> {
  const text = readFileSync(join(REPO, 'dashboards', 'provisioning', 'datasources', 'passerelle.yaml'), 'utf8')
    .replace(/\$\{(\w+)\}/g, (_, name: string) => env[name] ?? '');
  const { datasources } = yaml.load(text) as { datasources: Record<string, unknown>[] };
  expect(datasources).to.have.length(1);
  // Provisioned: read-only in Grafana's UI and the default; pushed: neither.
  const { editable: _editable, isDefault: _isDefault, ...datasource } = datasources[0];
  return datasource;
}

describe('npm run dashboards:push (against a stand-in for Grafana\'s HTTP API)', function () {
  let grafana: GrafanaStandIn;

  beforeEach(async function () {
    grafana = await startGrafanaStandIn({ token: TOKEN, username: 'responsable', password: 'mot-de-passe' });
  });

  afterEach(async function () {
    await grafana.close();
  });

  it('creates the datasource and the folder, then pushes the three dashboards exactly as in dashboards/json', async function () {
    const run = await push({ GRAFANA_URL: grafana.url, GRAFANA_TOKEN: TOKEN, ...INFLUX_ENV });
    expect(run.code, run.stderr).to.equal(0);

    expect(grafana.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).to.equal(true);
    expect(grafana.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal([
      `GET /api/datasources/uid/${DATASOURCE_UID}`,
      'POST /api/datasources',
      `GET /api/folders/${FOLDER.uid}`,
      'POST /api/folders',
      'POST /api/dashboards/db',
      'POST /api/dashboards/db',
      'POST /api/dashboards/db',
    ]);
    // The pushed datasource is the provisioned one, with the same environment.
    expect(grafana.datasources.get(DATASOURCE_UID)).to.deep.equal(provisionedDatasource({ ...INFLUX_ENV, INFLUX_URL: INFLUX_ENV.GRAFANA_INFLUX_URL }));
    expect(grafana.folders.get(FOLDER.uid)).to.deep.equal(FOLDER);

    const files = readDashboardFiles();
    expect([...grafana.dashboards.keys()]).to.deep.equal(files.map((f) => f.dashboard.uid));
    for (const { dashboard } of files) {
      const stored = grafana.dashboards.get(dashboard.uid)!;
      expect(stored.dashboard).to.deep.equal({ ...dashboard, id: null });
      expect(stored.folderUid).to.equal(FOLDER.uid);
      expect(stored.version).to.equal(1);
    }
    expect(grafana.requests.filter((r) => r.path === '/api/dashboards/db').every((r) => (r.body as { overwrite: boolean }).overwrite === true)).to.equal(true);

    expect(run.stdout).to.contain(`datasource ${DATASOURCE_UID} created`);
    for (const { dashboard } of files) expect(run.stdout).to.contain(`dashboard "${dashboard.title}" pushed: ${grafana.url}/d/${dashboard.uid}/`);
    expect(run.stdout + run.stderr).not.to.contain(TOKEN);
    expect(run.stdout + run.stderr).not.to.contain(INFLUX_ENV.INFLUX_READ_PASSWORD);
  });

  it('pushed again, updates the dashboards in place and leaves the datasource and folder alone', async function () {
    await push({ GRAFANA_URL: grafana.url, GRAFANA_TOKEN: TOKEN, ...INFLUX_ENV });
    grafana.requests.length = 0;
    const run = await push({ GRAFANA_URL: grafana.url, GRAFANA_TOKEN: TOKEN });
    expect(run.code, run.stderr).to.equal(0);
    expect(grafana.requests.map((r) => r.method + ' ' + r.path).filter((r) => r.startsWith('POST'))).to.deep.equal(Array(3).fill('POST /api/dashboards/db'));
    expect([...grafana.dashboards.values()].map((d) => d.version)).to.deep.equal([2, 2, 2]);
    expect(run.stdout).not.to.contain('created');
  });

  it('logs in with GRAFANA_USER and GRAFANA_PASSWORD (basic auth) when there is no token', async function () {
    const run = await push({ GRAFANA_URL: `${grafana.url}/`, GRAFANA_USER: 'responsable', GRAFANA_PASSWORD: 'mot-de-passe', ...INFLUX_ENV });
    expect(run.code, run.stderr).to.equal(0);
    expect(grafana.requests[0].authorization).to.equal(`Basic ${Buffer.from('responsable:mot-de-passe').toString('base64')}`);
    expect(grafana.dashboards.size).to.equal(3);
  });

  it('a refused token: exit 1, says 401 and which variables to check, never prints the token', async function () {
    const run = await push({ GRAFANA_URL: grafana.url, GRAFANA_TOKEN: 'glsa_revoked', ...INFLUX_ENV });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.contain(`Grafana refused the credentials (401 on GET /api/datasources/uid/${DATASOURCE_UID})`);
    expect(run.stderr).to.contain('GRAFANA_TOKEN');
    expect(run.stderr).not.to.contain('glsa_revoked');
    expect(grafana.dashboards.size).to.equal(0);
  });

  it('Grafana unreachable: exit 1, names the address it tried', async function () {
    const closedPort = await freePort();
    const run = await push({ GRAFANA_URL: `http://127.0.0.1:${closedPort}`, GRAFANA_TOKEN: TOKEN });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(new RegExp(`cannot reach Grafana at http://127.0.0.1:${closedPort} .*ECONNREFUSED; check GRAFANA_URL`));
  });

  it('no datasource in Grafana and no InfluxDB address to create it: exit 2, nothing pushed', async function () {
    const run = await push({ GRAFANA_URL: grafana.url, GRAFANA_TOKEN: TOKEN });
    expect(run.code).to.equal(2);
    expect(run.stderr).to.contain(`Grafana has no datasource ${DATASOURCE_UID}: set GRAFANA_INFLUX_URL (or INFLUX_URL)`);
    expect(grafana.dashboards.size).to.equal(0);
  });

  it('no credentials, or both kinds: exit 2 before any request; --help lists the variables', async function () {
    const none = await push({ GRAFANA_URL: grafana.url });
    expect(none.code).to.equal(2);
    expect(none.stderr).to.contain('set GRAFANA_TOKEN (a service account token), or GRAFANA_USER and GRAFANA_PASSWORD');
    const both = await push({ GRAFANA_URL: grafana.url, GRAFANA_TOKEN: TOKEN, GRAFANA_USER: 'responsable', GRAFANA_PASSWORD: 'x' });
    expect(both.code).to.equal(2);
    expect(grafana.requests).to.deep.equal([]);
    const help = await push({}, ['--help']);
    expect(help.code).to.equal(0);
    for (const name of ['GRAFANA_URL', 'GRAFANA_TOKEN', 'GRAFANA_USER', 'INFLUX_DB', 'INFLUX_READ_USERNAME']) expect(help.stdout).to.contain(name);
  });
});
