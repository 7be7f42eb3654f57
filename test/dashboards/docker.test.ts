/**
 * docker/: what can be checked without a Docker engine (none runs here, and no image can be
 * pulled). The Dockerfile is read as Docker reads it; its build stage is replayed on the files its
 * COPY lines take from the context (.dockerignore applied), with `npm run build`; its runtime
 * stage's files then start a real hub, and the image's HEALTHCHECK command is run against it.
 * Stand-ins, said where they are: the repository's node_modules for `npm ci` / `npm prune`
 * (no npm install here), loopback for HOST=0.0.0.0. The compose file is checked for content;
 * docker/README.md says what was not run.
 */
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { readConfig } from '../../gateway/config';
import { waitUntil } from '../support/hub-process';
import { freePort, tempDir } from '../support/net';
import { copies, dockerIgnores, execForm, parseDockerfile, readRepoFile, type Stage } from './docker-files';

// js-yaml comes with mocha (a dev dependency); only tests read YAML.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { load(text: string): unknown };

const REPO = resolve(__dirname, '..', '..', '..');
const WORKDIR = '/app';

const dockerfileText = readRepoFile(REPO, 'docker/Dockerfile');
const [build, runtime] = parseDockerfile(dockerfileText);
const dockerignore = readRepoFile(REPO, '.dockerignore');
const pkg = JSON.parse(readRepoFile(REPO, 'package.json')) as { bin: Record<string, string>; scripts: Record<string, string> };

function args(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => filesUnder(join(path, name)));
}

/** Where a COPY destination lands in a directory standing for the image's WORKDIR. */
function landing(root: string, destination: string, source: string, many: boolean): string {
  const target = join(root, destination.startsWith('/') ? relative(WORKDIR, destination) : destination);
  return destination.endsWith('/') || many ? join(target, source.split('/').at(-1)!) : target;
}

/** Replays a stage's COPY lines into `root`: from the build context, or from another stage's root. */
function replayCopies(stage: Stage, root: string, stageRoots: Record<string, string>, standIns: Record<string, string>): void {
  for (const copy of copies(stage)) {
    for (const source of copy.sources) {
      const to = landing(root, copy.destination, source, copy.sources.length > 1);
      mkdirSync(dirname(to), { recursive: true });
      if (copy.from) {
        const from = join(stageRoots[copy.from], relative(WORKDIR, source));
        if (standIns[source]) symlinkSync(standIns[source], to, 'dir');
        else cpSync(from, to, { recursive: true });
      } else {
        cpSync(join(REPO, source), to, { recursive: true, filter: (path) => !dockerIgnores(dockerignore, relative(REPO, path)) });
      }
    }
  }
}

function run(command: string, argv: string[], options: { cwd: string; env: Record<string, string> }): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun) => {
    execFile(command, argv, { ...options, timeout: 170_000 }, (err, stdout, stderr) => {
      resolveRun({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout + stderr });
    });
  });
}

describe('docker/Dockerfile (read and replayed without a Docker engine)', function () {
  it('builds in one stage on a Node.js LTS with dev dependencies, runs in another with production ones only, as "node"', function () {
    const nodeVersion = Number(/^ARG NODE_VERSION=(\d+)$/m.exec(dockerfileText)?.[1]);
    expect(nodeVersion % 2, 'LTS lines are the even ones').to.equal(0);
    expect(nodeVersion).to.be.at.least(22);
    expect(build.name).to.equal('build');
    for (const stage of [build, runtime]) expect(stage.base).to.equal('node:${NODE_VERSION}-bookworm-slim');

    const buildRuns = args(build, 'RUN').join(' && ');
    expect(buildRuns).to.match(/npm ci(?! --omit)/);
    expect(buildRuns).to.contain('npm run build');
    expect(buildRuns).to.contain('npm prune --omit=dev');
    expect(args(runtime, 'RUN').join(' ')).not.to.match(/npm (ci|install)/);
    expect(copies(runtime).filter((c) => c.from === 'build').flatMap((c) => c.sources)).to.include.members(['/app/node_modules', '/app/dist']);

    expect(args(runtime, 'USER')).to.deep.equal(['node']);
    expect(args(runtime, 'ENV').join(' ')).to.match(/NODE_ENV=production/);
  });

  it('keeps /data as a volume (the journal, queues and flows), exposes the hub\'s default ports, starts the package\'s CLI', function () {
    const env = args(runtime, 'ENV').join(' ');
    expect(env).to.match(/PASSERELLE_DATA_DIR=\/data/);
    expect(args(runtime, 'VOLUME').map((v) => JSON.parse(v) as string[]).flat()).to.deep.equal(['/data']);

    // The ports the hub listens on by default, from its own configuration code.
    const defaults = readConfig({}, REPO);
    const exposed = args(runtime, 'EXPOSE').join(' ').split(/\s+/).map(Number);
    expect(exposed.sort()).to.deep.equal([defaults.port, defaults.mqttPort, defaults.mllpInPort, defaults.astm.tcpPort, defaults.poct1aPort, defaults.dicom.port].sort());
    expect(env).to.match(new RegExp(`PORT=${defaults.port}\\b`));

    expect(execForm(args(runtime, 'CMD')[0])).to.deep.equal(['node', pkg.bin.passerelle]);
    const healthcheck = args(runtime, 'HEALTHCHECK')[0];
    expect(healthcheck).to.match(/--interval=\d+s .*--start-period=\d+s/);
    expect(execForm(healthcheck)).to.deep.equal(['node', 'dist/docker/healthcheck.js']);
  });

  it('copies only what exists and what .dockerignore lets into the context; data, secrets and builds stay out', function () {
    for (const stage of [build, runtime]) {
      for (const copy of copies(stage).filter((c) => !c.from)) {
        for (const source of copy.sources) {
          expect(existsSync(join(REPO, source)), `COPY ${source}`).to.equal(true);
          const sent = filesUnder(join(REPO, source)).map((f) => relative(REPO, f)).filter((f) => !dockerIgnores(dockerignore, f));
          expect(sent.length, `COPY ${source}: files in the context`).to.be.greaterThan(0);
          expect(dockerIgnores(dockerignore, source), `COPY ${source}`).to.equal(false);
        }
      }
    }
    for (const kept of ['.data/journal.db', 'node_modules/node-red/package.json', 'dist/gateway/cli.js', 'docker/.env', 'dashboards/.env', 'test/support/net.ts', '.git/HEAD', 'hub.log']) {
      expect(dockerIgnores(dockerignore, kept), kept).to.equal(true);
    }
  });

  it('its build stage compiles from the copied files alone, and its runtime files run a hub the HEALTHCHECK finds healthy', async function () {
    this.timeout(240_000);
    const temp = tempDir('passerelle-image-');
    const buildRoot = join(temp.dir, 'build');
    const appRoot = join(temp.dir, 'app');
    const dataDir = join(temp.dir, 'data');
    let hub: ReturnType<typeof spawn> | undefined;
    try {
      replayCopies(build, buildRoot, {}, {});
      // Stand-in for `npm ci`: the repository's installed dependencies (no npm install here).
      symlinkSync(join(REPO, 'node_modules'), join(buildRoot, 'node_modules'), 'dir');
      expect(existsSync(join(buildRoot, 'test')), 'tests stay out of the image').to.equal(false);
      const built = await run('npm', ['run', 'build'], { cwd: buildRoot, env: { PATH: process.env.PATH ?? '', HOME: temp.dir } });
      expect(built.code, built.output).to.equal(0);

      // Stand-in for the pruned node_modules: the same installed tree.
      replayCopies(runtime, appRoot, { build: buildRoot }, { '/app/node_modules': join(REPO, 'node_modules') });
      for (const file of [pkg.bin.passerelle, 'dist/docker/healthcheck.js', 'dist/nodes/to-record/to-record.html', 'flows/site.json', 'dashboards/json/livraisons.json']) {
        expect(existsSync(join(appRoot, file)), file).to.equal(true);
      }

      const port = await freePort();
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        HOME: temp.dir,
        NODE_ENV: 'production',
        HOST: '127.0.0.1', // the image says 0.0.0.0; loopback here
        PORT: String(port),
        MQTT_PORT: String(await freePort()),
        MLLP_IN_PORT: String(await freePort()),
        ASTM_TCP_PORT: String(await freePort()),
        POCT1A_PORT: String(await freePort()),
        PASSERELLE_DATA_DIR: dataDir,
        SITE_ID: 'centre-soins-nord',
        PASSERELLE_ADMIN_USER: 'technicienne',
        PASSERELLE_ADMIN_PASSWORD: 'mot-de-passe-très-long',
        PASSERELLE_LOG_LEVEL: 'warn',
      };
      let log = '';
      hub = spawn(process.execPath, [pkg.bin.passerelle], { cwd: appRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
      hub.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
      hub.stderr!.on('data', (d: Buffer) => { log += d.toString(); });

      const [healthcheckCommand, healthcheckScript] = execForm(args(runtime, 'HEALTHCHECK')[0]);
      expect(healthcheckCommand).to.equal('node');
      const check = (overrides: Record<string, string | undefined>) =>
        run(process.execPath, [healthcheckScript], { cwd: appRoot, env: Object.fromEntries(Object.entries({ ...env, ...overrides }).filter(([, v]) => v !== undefined)) as Record<string, string> });

      let healthy = { code: -1, output: '' };
      await waitUntil(async () => {
        if (hub!.exitCode !== null) throw new Error(`hub exited:\n${log}`);
        healthy = await check({});
        return healthy.code === 0;
      }, 60_000, () => `HEALTHCHECK never passed: ${healthy.output}\n${log}`);
      expect(healthy.output).to.match(/^health 200: .*"status":"ok"/);

      // Each check logs in and revokes its token: no sessions pile up in the data volume.
      const sessionsFile = join(dataDir, 'node-red', '.sessions.json');
      const sessions = existsSync(sessionsFile) ? JSON.parse(readFileSync(sessionsFile, 'utf8')) as unknown[] | Record<string, unknown> : [];
      expect(Object.keys(sessions)).to.have.length(0);

      const refused = await check({ PASSERELLE_ADMIN_PASSWORD: 'pas-le-bon' });
      expect(refused.code).to.equal(1);
      expect(refused.output).to.match(/^login refused \(\d+\): check PASSERELLE_ADMIN_USER and PASSERELLE_ADMIN_PASSWORD/);
      expect(refused.output).not.to.contain('pas-le-bon');

      const hashOnly = await check({ PASSERELLE_ADMIN_PASSWORD: undefined, PASSERELLE_ADMIN_PASSWORD_HASH: '$2b$08$abcdefghijklmnopqrstuv' });
      expect(hashOnly.code).to.equal(0);
      expect(hashOnly.output).to.contain('hub answers (401); readiness not checked');

      const exited = new Promise((r) => hub!.once('exit', r));
      hub.kill('SIGTERM');
      await exited;
      const down = await check({});
      expect(down.code).to.equal(1);
      expect(down.output).to.match(/^hub unreachable: .*ECONNREFUSED/);
    } finally {
      if (hub && hub.exitCode === null) hub.kill('SIGKILL');
      temp.remove();
    }
  });
});

interface ComposeService {
  build?: { context: string; dockerfile: string };
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

describe('docker/compose.yaml (checked for content: no engine, and no compose-spec schema here)', function () {
  const composeText = readRepoFile(REPO, 'docker/compose.yaml');
  const compose = yaml.load(composeText) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
  const { hub, influxdb, grafana } = compose.services;
  const composeDir = join(REPO, 'docker');

  it('a production site: the hub built from docker/Dockerfile, InfluxDB 1.8, Grafana; named volumes for the journal and data', function () {
    expect(Object.keys(compose.services)).to.deep.equal(['hub', 'influxdb', 'grafana']);
    expect(existsSync(join(composeDir, hub.build!.context, hub.build!.dockerfile))).to.equal(true);
    expect(resolve(composeDir, hub.build!.context)).to.equal(REPO);
    expect(influxdb.image).to.equal('influxdb:1.8');
    expect(grafana.image).to.match(/^grafana\/grafana:1[01]\.\d+\.\d+$/);

    const namedVolume = (service: ComposeService, target: string) => service.volumes?.find((v) => v.split(':')[1] === target)?.split(':')[0];
    expect(namedVolume(hub, '/data')).to.equal('passerelle-data');
    expect(namedVolume(influxdb, '/var/lib/influxdb')).to.equal('influxdb-data');
    expect(namedVolume(grafana, '/var/lib/grafana')).to.equal('grafana-data');
    expect(Object.keys(compose.volumes)).to.deep.equal(['passerelle-data', 'influxdb-data', 'grafana-data']);
    expect(hub.environment!.PASSERELLE_DATA_DIR).to.equal('/data');

    // The hub writes to the InfluxDB service, Grafana reads it; both wait for its /ping.
    expect(hub.environment!.INFLUX_URL).to.equal('http://influxdb:8086');
    expect(grafana.environment!.INFLUX_URL).to.equal('http://influxdb:8086');
    expect(influxdb.healthcheck!.test).to.include('http://127.0.0.1:8086/ping');
    expect(hub.depends_on).to.deep.equal({ influxdb: { condition: 'service_healthy' } });
    expect(hub.ports!.map((p) => Number(p.split(':')[1]))).to.deep.equal([1880, 1883, 2575, 5100, 5200, 11112]);
  });

  it('mounts the provisioning files where Grafana reads them and the dashboards where the provider points', function () {
    const mounts = Object.fromEntries(grafana.volumes!.filter((v) => v.startsWith('..')).map((v) => {
      const [source, target, mode] = v.split(':');
      expect(mode, v).to.equal('ro');
      expect(existsSync(resolve(composeDir, source)), source).to.equal(true);
      return [target, relative(REPO, resolve(composeDir, source))];
    }));
    expect(mounts).to.deep.equal({
      '/etc/grafana/provisioning/datasources': 'dashboards/provisioning/datasources',
      '/etc/grafana/provisioning/dashboards': 'dashboards/provisioning/dashboards',
      '/etc/grafana/dashboards/passerelle': 'dashboards/json',
    });
    const provider = yaml.load(readRepoFile(REPO, 'dashboards/provisioning/dashboards/passerelle.yaml')) as { providers: { options: { path: string } }[] };
    expect(provider.providers[0].options.path).to.equal('/etc/grafana/dashboards/passerelle');
    const home = grafana.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(existsSync(join(REPO, 'dashboards/json', relative('/etc/grafana/dashboards/passerelle', home)))).to.equal(true);

    // Every ${VAR} of the datasource file is in Grafana's environment.
    const datasourceVars = [...readRepoFile(REPO, 'dashboards/provisioning/datasources/passerelle.yaml').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
    expect(datasourceVars).to.have.members(['INFLUX_URL', 'INFLUX_READ_USERNAME', 'INFLUX_DB', 'INFLUX_READ_PASSWORD']);
    for (const name of datasourceVars) expect(grafana.environment, name).to.have.property(name);
  });

  it('takes every secret from docker/.env (git-ignored; env.example lists each one, empty), and writes none itself', function () {
    const example = readRepoFile(REPO, 'docker/env.example');
    const exampleValues = Object.fromEntries([...example.matchAll(/^(\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    for (const [, name] of composeText.matchAll(/\$\{(\w+)(:?[-?])?([^}]*)\}/g)) {
      expect(exampleValues, `${name} in env.example`).to.have.property(name);
      if (/PASSWORD|SECRET|USER/.test(name)) expect(exampleValues[name], `${name} left empty in env.example`).to.equal('');
    }
    // A secret is required from .env (:?) or optional with no value of its own (:- and nothing after it).
    for (const [serviceName, service] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/PASSWORD|SECRET|TOKEN/.test(key)) expect(value, `${serviceName}.${key}`).to.match(/^\$\{\w+(:\?[^}]+|:-)\}$/);
      }
    }
    expect(readRepoFile(REPO, 'docker/.gitignore').split('\n')).to.include('.env');
    // Each service gets its own secrets only.
    expect(Object.keys(hub.environment!).filter((k) => /GF_|INFLUXDB_|READ/.test(k))).to.deep.equal([]);
    expect(Object.keys(grafana.environment!).filter((k) => /PASSERELLE_|MQTT_|INFLUX_PASSWORD|INFLUX_USERNAME/.test(k))).to.deep.equal([]);
  });

  it('gives the hub only variables the hub reads, with InfluxDB\'s users made for it and for Grafana', function () {
    const known = [readRepoFile(REPO, 'README.md'), readRepoFile(REPO, 'docs/metrics.md'), readRepoFile(REPO, 'gateway/config.ts'),
      ...filesUnder(join(REPO, 'nodes')).map((f) => readFileSync(f, 'utf8'))].join('\n');
    for (const name of Object.keys(hub.environment!)) expect(known, `${name} is read by the hub`).to.contain(name);
    const sameSecret = (a: string | undefined, b: string | undefined) => expect(a, `${a} = ${b}`).to.equal(b);
    sameSecret(influxdb.environment!.INFLUXDB_USER, hub.environment!.INFLUX_USERNAME);
    sameSecret(influxdb.environment!.INFLUXDB_USER_PASSWORD, hub.environment!.INFLUX_PASSWORD);
    sameSecret(influxdb.environment!.INFLUXDB_READ_USER, grafana.environment!.INFLUX_READ_USERNAME);
    sameSecret(influxdb.environment!.INFLUXDB_READ_USER_PASSWORD, grafana.environment!.INFLUX_READ_PASSWORD);
    sameSecret(influxdb.environment!.INFLUXDB_DB, hub.environment!.INFLUX_DB);
    expect(influxdb.environment!.INFLUXDB_DB_RETENTION_POLICY).to.match(/NAME passerelle$/);
    expect(influxdb.environment!.INFLUXDB_HTTP_AUTH_ENABLED).to.equal('true');
  });
});
