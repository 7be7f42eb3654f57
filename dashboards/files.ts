/** The dashboards as shipped: the JSON files Grafana provisions from and `npm run dashboards:push` sends. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** dashboards/json in the package (this file runs from dist/dashboards/). */
export const DASHBOARD_DIR = resolve(__dirname, '..', '..', 'dashboards', 'json');

/** The uid every panel's datasource refers to, and the provisioned datasource's. */
export const DATASOURCE_UID = 'passerelle-influxdb';

/** The folder the dashboards go in, provisioned or pushed. */
export const FOLDER = { uid: 'passerelle', title: 'Passerelle' };

export interface DashboardFile {
  file: string;
  dashboard: { uid: string; title: string; [key: string]: unknown };
}

export function readDashboardFiles(dir = DASHBOARD_DIR): DashboardFile[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(dir, file), 'utf8')) as DashboardFile['dashboard'] }));
}
