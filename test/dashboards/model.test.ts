/**
 * The dashboards and provisioning files as Grafana 10/11 loads them: Paris time, French titles
 * with an English description, every query on the provisioned datasource, thresholds at the
 * 20-minute biology target on every duration.
 */
import { expect } from 'chai';
import { join, resolve } from 'node:path';
import { DATASOURCE_UID, FOLDER } from '../../dashboards/files';
import { loadDashboards, type DashboardPanel } from './grafana-panels';
import { readRepoFile } from './docker-files';

// js-yaml comes with mocha (a dev dependency); only tests read YAML.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { load(text: string): unknown };

const REPO = resolve(__dirname, '..', '..', '..');
const TARGET_S = 1200;
const INFLUX = { type: 'influxdb', uid: DATASOURCE_UID };

/** Each field config of a panel with its unit and thresholds: the defaults, then each override applied on top. */
function fieldConfigs(panel: DashboardPanel): { unit?: string; steps?: (number | null)[] }[] {
  const defaults = panel.fieldConfig.defaults;
  const base = { unit: defaults.unit, steps: defaults.thresholds?.steps.map((s) => s.value) };
  return [base, ...panel.fieldConfig.overrides.map((o) => {
    const property = (id: string) => o.properties.find((p) => p.id === id)?.value;
    const thresholds = property('thresholds') as { steps: { value: number | null }[] } | undefined;
    return { unit: (property('unit') as string | undefined) ?? base.unit, steps: thresholds?.steps.map((s) => s.value) ?? base.steps };
  })];
}

describe('Grafana dashboards and provisioning files', function () {
  const dashboards = loadDashboards();

  it('three dashboards, each with its own uid, in Paris time, for Grafana 10/11', function () {
    expect(dashboards.map((d) => d.dashboard.uid)).to.deep.equal(['passerelle-appareils', 'passerelle-biologie-delais', 'passerelle-livraisons']);
    for (const { dashboard } of dashboards) {
      const raw = dashboard as unknown as { schemaVersion: number; id?: unknown; time: { from: string } };
      expect(dashboard.timezone, dashboard.uid).to.equal('Europe/Paris');
      expect(raw.schemaVersion).to.be.within(38, 39);
      expect(raw.id, 'no database id in a provisioned file').to.equal(undefined);
      expect(dashboard.title).to.match(/^Passerelle — /);
    }
  });

  it('every panel: a French title, an English description, unique ids, within the 24-column grid', function () {
    for (const { dashboard } of dashboards) {
      const ids = dashboard.panels.map((p) => p.id);
      expect(new Set(ids).size, dashboard.uid).to.equal(ids.length);
      for (const panel of dashboard.panels) {
        const gridPos = (panel as unknown as { gridPos: { x: number; w: number } }).gridPos;
        expect(gridPos.x + gridPos.w, panel.title).to.be.at.most(24);
        expect(panel.title, panel.title).not.to.match(/\b(the|of|per|and)\b/i);
        expect(panel.description, panel.title).to.match(/\b(the|of|per|and|a)\b/);
      }
    }
  });

  it('every query and variable reads the provisioned InfluxDB datasource (or is a Grafana expression)', function () {
    for (const { dashboard } of dashboards) {
      for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
        expect((variable as unknown as { datasource: unknown }).datasource, variable.name).to.deep.equal(INFLUX);
      }
      for (const panel of dashboard.panels) {
        expect(panel.datasource, panel.title).to.deep.equal(INFLUX);
        for (const target of panel.targets) {
          if (target.datasource.type === '__expr__') expect(target.datasource).to.deep.equal({ type: '__expr__', uid: '__expr__' });
          else expect(target.datasource, `${panel.title} ${target.refId}`).to.deep.equal(INFLUX);
        }
      }
    }
  });

  it('every duration is coloured at the 20-minute target; shares at the 90 % goal', function () {
    let durations = 0;
    for (const { dashboard } of dashboards) {
      for (const panel of dashboard.panels) {
        for (const config of fieldConfigs(panel)) {
          if (config.unit === 's') {
            durations += 1;
            expect(config.steps, panel.title).to.include(TARGET_S);
          }
          if (config.unit === 'percent') expect(config.steps, panel.title).to.include(90);
        }
      }
    }
    expect(durations).to.be.at.least(4);
  });

  it('the datasource file: InfluxQL on the database from INFLUX_DB, the password only in secureJsonData', function () {
    const { datasources } = yaml.load(readRepoFile(REPO, join('dashboards', 'provisioning', 'datasources', 'passerelle.yaml'))) as { datasources: Record<string, unknown>[] };
    expect(datasources).to.have.length(1);
    const [datasource] = datasources;
    expect(datasource).to.include({ uid: DATASOURCE_UID, type: 'influxdb', access: 'proxy', url: '${INFLUX_URL}', user: '${INFLUX_READ_USERNAME}' });
    expect(datasource.jsonData).to.deep.include({ dbName: '${INFLUX_DB}', httpMode: 'POST' });
    expect(datasource.jsonData).not.to.have.property('version'); // InfluxQL, Grafana's default, not Flux
    expect(datasource).not.to.have.property('password');
    expect(datasource.secureJsonData).to.deep.equal({ password: '${INFLUX_READ_PASSWORD}' });
  });

  it('the dashboards file: the Passerelle folder, not editable in Grafana (the JSON files are the source)', function () {
    const { providers } = yaml.load(readRepoFile(REPO, join('dashboards', 'provisioning', 'dashboards', 'passerelle.yaml'))) as { providers: Record<string, unknown>[] };
    expect(providers).to.have.length(1);
    expect(providers[0]).to.include({ type: 'file', folder: FOLDER.title, folderUid: FOLDER.uid, allowUiUpdates: false });
  });
});
