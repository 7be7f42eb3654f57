#!/usr/bin/env node
/**
 * `npm run dashboards:push`: puts the Passerelle dashboards into a running Grafana through its
 * HTTP API, for sites whose Grafana does not provision from files (docs/dashboards.md). Creates
 * the InfluxDB datasource and the folder when they are missing, then overwrites each dashboard.
 * Configured by environment variables, like the hub.
 */
import { DATASOURCE_UID, FOLDER, readDashboardFiles, type DashboardFile } from './files';
import { GrafanaClient, GrafanaError, type GrafanaAuth } from './grafana';

export interface InfluxForGrafana {
  /** InfluxDB as Grafana reaches it (which may differ from the hub's INFLUX_URL). */
  url: string;
  database: string;
  username?: string;
  password?: string;
}

export interface PushConfig {
  grafanaUrl: string;
  auth: GrafanaAuth;
  /** Needed only when Grafana has no datasource with uid passerelle-influxdb yet. */
  influx?: InfluxForGrafana;
}

export const USAGE = `Usage: npm run dashboards:push   (or: node dist/dashboards/push.js)

Pushes the Passerelle dashboards to a running Grafana (POST /api/dashboards/db, overwriting),
creating the InfluxDB datasource (uid ${DATASOURCE_UID}) and the folder "${FOLDER.title}" when missing.

  GRAFANA_URL                         Grafana's address (default http://127.0.0.1:3000)
  GRAFANA_TOKEN                       a service account token (Editor; Admin to create the datasource)
  GRAFANA_USER, GRAFANA_PASSWORD      or a user's login (basic auth)
  GRAFANA_INFLUX_URL or INFLUX_URL    InfluxDB as Grafana reaches it (only to create the datasource)
  INFLUX_DB                           the database (default passerelle)
  INFLUX_READ_USERNAME, INFLUX_READ_PASSWORD   a read-only InfluxDB user for Grafana
`;

export class PushConfigError extends Error {}

export function readPushConfig(env: Record<string, string | undefined> = process.env): PushConfig {
  const token = env.GRAFANA_TOKEN;
  const username = env.GRAFANA_USER;
  const password = env.GRAFANA_PASSWORD;
  if (token && (username || password)) throw new PushConfigError('set GRAFANA_TOKEN or GRAFANA_USER/GRAFANA_PASSWORD, not both');
  if (!token && !(username && password)) throw new PushConfigError('set GRAFANA_TOKEN (a service account token), or GRAFANA_USER and GRAFANA_PASSWORD');
  const grafanaUrl = env.GRAFANA_URL || 'http://127.0.0.1:3000';
  if (!/^https?:\/\//.test(grafanaUrl)) throw new PushConfigError(`GRAFANA_URL=${grafanaUrl}: expected http:// or https://`);
  const influxUrl = env.GRAFANA_INFLUX_URL || env.INFLUX_URL;
  if (Boolean(env.INFLUX_READ_USERNAME) !== Boolean(env.INFLUX_READ_PASSWORD)) throw new PushConfigError('INFLUX_READ_USERNAME and INFLUX_READ_PASSWORD go together');
  return {
    grafanaUrl,
    auth: token ? { token } : { username: username!, password: password! },
    influx: influxUrl
      ? { url: influxUrl, database: env.INFLUX_DB || 'passerelle', username: env.INFLUX_READ_USERNAME || undefined, password: env.INFLUX_READ_PASSWORD || undefined }
      : undefined,
  };
}

/**
 * The datasource as dashboards/provisioning/datasources/passerelle.yaml describes it, except that
 * it does not become the default: a Grafana that already has one keeps it.
 */
export function datasourceBody(influx: InfluxForGrafana): Record<string, unknown> {
  return {
    name: 'Passerelle InfluxDB',
    uid: DATASOURCE_UID,
    type: 'influxdb',
    access: 'proxy',
    url: influx.url,
    ...(influx.username ? { user: influx.username } : {}),
    jsonData: { dbName: influx.database, httpMode: 'POST', timeInterval: '1m' },
    ...(influx.password ? { secureJsonData: { password: influx.password } } : {}),
  };
}

export interface PushReport {
  datasource: 'present' | 'created';
  folder: 'present' | 'created';
  dashboards: { title: string; uid: string; url: string; version: number }[];
}

export async function pushDashboards(config: PushConfig, files: DashboardFile[], log: (line: string) => void = () => undefined): Promise<PushReport> {
  const grafana = new GrafanaClient(config.grafanaUrl, config.auth);

  const existing = await grafana.request('GET', `/api/datasources/uid/${DATASOURCE_UID}`, undefined, [404]);
  let datasource: PushReport['datasource'] = 'present';
  if (existing.status === 404) {
    if (!config.influx) {
      throw new PushConfigError(`Grafana has no datasource ${DATASOURCE_UID}: set GRAFANA_INFLUX_URL (or INFLUX_URL), INFLUX_DB and INFLUX_READ_USERNAME/INFLUX_READ_PASSWORD so this command creates it`);
    }
    await grafana.request('POST', '/api/datasources', datasourceBody(config.influx));
    datasource = 'created';
    log(`datasource ${DATASOURCE_UID} created (InfluxDB ${config.influx.url}, database ${config.influx.database})`);
  }

  const folderFound = await grafana.request('GET', `/api/folders/${FOLDER.uid}`, undefined, [404]);
  let folder: PushReport['folder'] = 'present';
  if (folderFound.status === 404) {
    await grafana.request('POST', '/api/folders', FOLDER);
    folder = 'created';
    log(`folder "${FOLDER.title}" created`);
  }

  const dashboards: PushReport['dashboards'] = [];
  for (const { dashboard } of files) {
    const saved = await grafana.request<{ uid: string; url: string; version: number }>('POST', '/api/dashboards/db', {
      // id null: Grafana finds the dashboard by uid, so pushing again updates it.
      dashboard: { ...dashboard, id: null },
      folderUid: FOLDER.uid,
      overwrite: true,
      message: 'npm run dashboards:push',
    });
    dashboards.push({ title: dashboard.title, uid: saved.body.uid, url: `${config.grafanaUrl.replace(/\/+$/, '')}${saved.body.url}`, version: saved.body.version });
    log(`dashboard "${dashboard.title}" pushed: ${dashboards.at(-1)!.url} (version ${saved.body.version})`);
  }
  return { datasource, folder, dashboards };
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  if (argv.length > 0) throw new PushConfigError(`unknown argument ${argv[0]} (the command is configured by environment variables; --help lists them)`);
  const config = readPushConfig();
  await pushDashboards(config, readDashboardFiles(), (line) => console.log(line));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    if (err instanceof PushConfigError) {
      console.error(`dashboards:push: ${err.message}`);
      process.exit(2);
    }
    if (err instanceof GrafanaError) {
      console.error(`dashboards:push: ${err.message}`);
      process.exit(1);
    }
    console.error('dashboards:push failed:', err);
    process.exit(1);
  });
}
