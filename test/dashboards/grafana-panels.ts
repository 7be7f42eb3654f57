/**
 * What Grafana does between a dashboard's JSON and the figures a panel shows, for the features
 * the Passerelle dashboards use: template variables from InfluxDB, the InfluxDB datasource's
 * macros ($timeFilter, $__interval, ${__to}), panel relative time ("now/d"), InfluxQL results
 * turned into frames (time series with aliases, tables), math expressions, the "organize"
 * transformation, table sorting and stat reductions.
 *
 * No Grafana runs here (it is not in Debian and there is no network), so this stands in for it.
 * Any feature it does not know (another macro, transformation, expression or reducer) throws:
 * a dashboard cannot grow a panel these tests silently fail to compute.
 */
import { offsetForWallTime } from '../../adapters/common/time-zone';
import { readDashboardFiles } from '../../dashboards/files';
import type { InfluxSeries, RunningInfluxDb } from '../support/influxdb';

export interface DashboardTarget {
  refId: string;
  hide?: boolean;
  datasource: { type: string; uid: string };
  rawQuery?: boolean;
  query?: string;
  resultFormat?: 'time_series' | 'table';
  alias?: string;
  type?: string;
  expression?: string;
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  description?: string;
  timeFrom?: string;
  interval?: string;
  maxDataPoints?: number;
  datasource?: { type: string; uid: string };
  targets: DashboardTarget[];
  transformations?: { id: string; options: Record<string, unknown> }[];
  fieldConfig: { defaults: FieldDefaults; overrides: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[] };
  options: {
    reduceOptions?: { calcs: string[] };
    sortBy?: { displayName: string; desc: boolean }[];
  };
}

export interface FieldDefaults {
  displayName?: string;
  unit?: string;
  noValue?: string;
  thresholds?: { mode: string; steps: { color: string; value: number | null }[] };
}

export interface DashboardVariable {
  name: string;
  type: 'query' | 'custom';
  query: string;
  multi: boolean;
  includeAll: boolean;
  sort?: number;
  current?: { text?: string; value?: string | string[] };
}

export interface Dashboard {
  uid: string;
  title: string;
  timezone: string;
  templating: { list: DashboardVariable[] };
  panels: DashboardPanel[];
}

/** The shipped dashboards, typed with what this emulation reads. */
export function loadDashboards(): { file: string; dashboard: Dashboard }[] {
  return readDashboardFiles().map(({ file, dashboard }) => ({ file, dashboard: dashboard as unknown as Dashboard }));
}

/** An absolute dashboard range (ms) and the moment the manager looks at it. */
export interface ViewTime {
  from: number;
  to: number;
  now: number;
}

/** The values chosen for the dashboard's variables: Grafana's defaults unless the manager picks. */
export interface VariableValues {
  options: Record<string, string[]>;
  selected: Record<string, string[]>;
}

type Value = number | string | boolean | null;

export interface Field {
  name: string;
  values: Value[];
}

export interface Frame {
  refId: string;
  name: string;
  fields: Field[];
}

/** "now/d" and friends, as Grafana's date math reads a panel's relative time (in the dashboard's zone). */
function startOfDay(ms: number, timeZone: string): number {
  const day = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
  const wall = Date.parse(`${day}T00:00:00Z`);
  return wall - offsetForWallTime(wall, timeZone) * 60_000;
}

export function panelRange(panel: DashboardPanel, dashboard: Dashboard, view: ViewTime): { from: number; to: number } {
  if (panel.timeFrom === undefined) return { from: view.from, to: view.to };
  if (panel.timeFrom === 'now/d') {
    // Grafana reads "now/d" as today: from the start of the day to its end, rounded up.
    const from = startOfDay(view.now, dashboard.timezone);
    const nextDay = startOfDay(from + 36 * 3_600_000, dashboard.timezone);
    return { from, to: nextDay - 1 };
  }
  throw new Error(`panel "${panel.title}": relative time ${panel.timeFrom} is not emulated`);
}

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  return Number(match[1]) * DURATION_MS[match[2]];
}

/** Grafana's rangeutil.roundInterval: the "nice" interval nearest above a raw one. */
const NICE_INTERVALS: [below: number, interval: number][] = [
  [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1500, 1000], [3500, 2000], [7500, 5000],
  [12_500, 10_000], [17_500, 15_000], [25_000, 20_000], [45_000, 30_000], [90_000, 60_000], [210_000, 120_000],
  [450_000, 300_000], [750_000, 600_000], [1_050_000, 900_000], [1_500_000, 1_200_000], [2_700_000, 1_800_000],
  [5_400_000, 3_600_000], [9_000_000, 7_200_000], [16_200_000, 10_800_000], [32_400_000, 21_600_000],
  [86_400_000, 43_200_000], [604_800_000, 86_400_000], [1_814_400_000, 604_800_000],
];

function roundInterval(ms: number): number {
  return NICE_INTERVALS.find(([below]) => ms < below)?.[1] ?? 2_592_000_000;
}

function formatInterval(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's']) if (ms % DURATION_MS[unit] === 0) return `${ms / DURATION_MS[unit]}${unit}`;
  return `${ms}ms`;
}

/** The datasource's minimum interval (timeInterval in dashboards/provisioning/datasources). */
export const DATASOURCE_MIN_INTERVAL = '1m';

/** $__interval: the range over the panel's max data points, made nice, never below the panel's minimum. */
export function panelInterval(panel: DashboardPanel, range: { from: number; to: number }): string {
  if (panel.maxDataPoints === undefined) throw new Error(`panel "${panel.title}" uses $__interval without maxDataPoints: its interval would depend on the screen`);
  const minimum = durationMs(panel.interval ?? DATASOURCE_MIN_INTERVAL);
  return formatInterval(Math.max(minimum, roundInterval((range.to - range.from) / panel.maxDataPoints)));
}

function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

/** A variable's value as the InfluxDB datasource writes it: multi-value ones as an escaped regex alternation. */
function formatVariable(variable: DashboardVariable, values: string[]): string {
  if (!variable.multi && !variable.includeAll) return values[0];
  const escaped = values.map(escapeRegex);
  return escaped.length === 1 ? escaped[0] : `(${escaped.join('|')})`;
}

interface InterpolationContext {
  dashboard: Dashboard;
  variables: VariableValues;
  range?: { from: number; to: number };
  interval?: () => string;
}

export function interpolate(query: string, context: InterpolationContext): string {
  return query.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const range = context.range;
    if (name === 'timeFilter' && range) return `time >= ${range.from}ms and time <= ${range.to}ms`;
    if (name === '__from' && range) return String(range.from);
    if (name === '__to' && range) return String(range.to);
    if (name === '__interval' && context.interval) return context.interval();
    const variable = context.dashboard.templating.list.find((v) => v.name === name);
    const selected = context.variables.selected[name];
    if (!variable || !selected) throw new Error(`${whole}: not a variable or macro known here (in ${query})`);
    return formatVariable(variable, selected);
  });
}

/** Runs the variables' queries in order and picks each one's value as Grafana does when the dashboard opens. */
export async function resolveVariables(
  dashboard: Dashboard,
  influx: RunningInfluxDb,
  database: string,
  picked: Record<string, string[]> = {},
): Promise<VariableValues> {
  const values: VariableValues = { options: {}, selected: {} };
  for (const variable of dashboard.templating.list) {
    let options: string[];
    if (variable.type === 'custom') {
      options = variable.query.split(',').map((o) => o.trim());
    } else if (variable.type === 'query') {
      const series = await influx.query(interpolate(variable.query, { dashboard, variables: values }), database);
      options = series.flatMap((s) => s.values.map((row) => String(row[s.columns.indexOf('value')])));
      if (variable.sort === 1) options.sort();
    } else {
      throw new Error(`variable ${(variable as DashboardVariable).name}: type ${(variable as DashboardVariable).type} is not emulated`);
    }
    values.options[variable.name] = options;
    const current = variable.current?.value;
    const choice = picked[variable.name]
      ?? (current === '$__all' || (Array.isArray(current) && current.includes('$__all')) ? options
        : typeof current === 'string' && options.includes(current) ? [current]
          : options.slice(0, 1));
    values.selected[variable.name] = choice;
  }
  return values;
}

function aliasName(alias: string, series: InfluxSeries, column: string): string {
  return alias.replace(/\$tag_(\w+)|\$col|\$m\b/g, (token, tag: string | undefined) => {
    if (tag) return series.tags?.[tag] ?? '';
    return token === '$col' ? column : series.name;
  });
}

/** InfluxQL series as Grafana's InfluxDB datasource frames them. */
function framesOf(target: DashboardTarget, series: InfluxSeries[]): Frame[] {
  if (target.resultFormat === 'table') {
    if (series.length === 0) return [];
    const tagKeys = Object.keys(series[0].tags ?? {});
    const valueColumns = series[0].columns.filter((c) => c !== 'time');
    const fields: Field[] = [{ name: 'Time', values: [] }, ...tagKeys.map((name) => ({ name, values: [] as Value[] })), ...valueColumns.map((name) => ({ name, values: [] as Value[] }))];
    for (const s of series) {
      for (const row of s.values) {
        fields[0].values.push(row[s.columns.indexOf('time')] as Value);
        tagKeys.forEach((key, i) => fields[1 + i].values.push(s.tags?.[key] ?? ''));
        valueColumns.forEach((column, i) => fields[1 + tagKeys.length + i].values.push(row[s.columns.indexOf(column)] as Value));
      }
    }
    return [{ refId: target.refId, name: target.refId, fields }];
  }
  return series.flatMap((s) => s.columns.filter((c) => c !== 'time').map((column) => {
    const tags = Object.entries(s.tags ?? {}).map(([k, v]) => `${k}: ${v}`).join(', ');
    const name = target.alias ? aliasName(target.alias, s, column) : `${s.name}.${column}${tags ? ` {${tags}}` : ''}`;
    return {
      refId: target.refId,
      name,
      fields: [
        { name: 'Time', values: s.values.map((row) => row[s.columns.indexOf('time')] as Value) },
        { name: 'Value', values: s.values.map((row) => row[s.columns.indexOf(column)] as Value) },
      ],
    };
  }));
}

/** Server-side math expressions, in the one shape these dashboards use: "$A / $B * 100", joined on time. */
function mathExpression(target: DashboardTarget, frames: Map<string, Frame[]>): Frame[] {
  const match = /^\$(\w+) \/ \$(\w+) \* (\d+)$/.exec(target.expression ?? '');
  if (target.type !== 'math' || !match) throw new Error(`expression ${target.refId}: ${target.type} "${target.expression}" is not emulated`);
  const [numerators, denominators] = [frames.get(match[1]) ?? [], frames.get(match[2]) ?? []];
  if (numerators.length > 1 || denominators.length > 1) throw new Error(`expression ${target.refId}: one series each expected`);
  if (numerators.length === 0 || denominators.length === 0) return [];
  const factor = Number(match[3]);
  const byTime = new Map(denominators[0].fields[0].values.map((t, i) => [t, denominators[0].fields[1].values[i]]));
  const times: Value[] = [];
  const values: Value[] = [];
  numerators[0].fields[0].values.forEach((t, i) => {
    const denominator = byTime.get(t);
    const numerator = numerators[0].fields[1].values[i];
    if (denominator === undefined || denominator === null || numerator === null) return;
    times.push(t);
    values.push((Number(numerator) / Number(denominator)) * factor);
  });
  return [{ refId: target.refId, name: target.refId, fields: [{ name: 'Time', values: times }, { name: target.refId, values }] }];
}

function organize(frames: Frame[], options: Record<string, unknown>): Frame[] {
  const exclude = (options.excludeByName ?? {}) as Record<string, boolean>;
  const rename = (options.renameByName ?? {}) as Record<string, string>;
  return frames.map((frame) => ({
    ...frame,
    fields: frame.fields.filter((f) => !exclude[f.name]).map((f) => ({ ...f, name: rename[f.name] ?? f.name })),
  }));
}

export interface PanelResult {
  panel: DashboardPanel;
  /** The interpolated InfluxQL of each query, by refId. */
  queries: Record<string, string>;
  frames: Frame[];
}

/** Runs every query of a panel as Grafana would and returns what the panel draws. */
export async function runPanel(
  dashboard: Dashboard,
  panel: DashboardPanel,
  influx: RunningInfluxDb,
  database: string,
  view: ViewTime,
  variables: VariableValues,
): Promise<PanelResult> {
  const range = panelRange(panel, dashboard, view);
  const context: InterpolationContext = { dashboard, variables, range, interval: () => panelInterval(panel, range) };
  const queries: Record<string, string> = {};
  const byRef = new Map<string, Frame[]>();
  for (const target of panel.targets) {
    if (target.datasource.type === '__expr__') continue;
    if (target.datasource.type !== 'influxdb' || !target.rawQuery || !target.query) throw new Error(`panel "${panel.title}" ${target.refId}: only raw InfluxQL queries are emulated`);
    queries[target.refId] = interpolate(target.query, context);
    byRef.set(target.refId, framesOf(target, await influx.query(queries[target.refId], database)));
  }
  for (const target of panel.targets) {
    if (target.datasource.type === '__expr__') byRef.set(target.refId, mathExpression(target, byRef));
  }
  let frames = panel.targets.filter((t) => !t.hide).flatMap((t) => byRef.get(t.refId) ?? []);
  for (const transformation of panel.transformations ?? []) {
    if (transformation.id !== 'organize') throw new Error(`panel "${panel.title}": transformation ${transformation.id} is not emulated`);
    frames = organize(frames, transformation.options);
  }
  return { panel, queries, frames };
}

/** A table panel's rows, keyed by column name, in the order the panel sorts them. */
export function tableRows(result: PanelResult): Record<string, Value>[] {
  if (result.frames.length !== 1) throw new Error(`panel "${result.panel.title}": one table frame expected, got ${result.frames.length}`);
  const fields = result.frames[0].fields;
  const rows = fields[0].values.map((_, i) => Object.fromEntries(fields.map((f) => [f.name, f.values[i]])));
  for (const sort of [...(result.panel.options.sortBy ?? [])].reverse()) {
    rows.sort((a, b) => {
      const [x, y] = [a[sort.displayName], b[sort.displayName]];
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return sort.desc ? -order : order;
    });
  }
  return rows;
}

/** A stat panel's values, by displayed name, reduced as the panel says; noValue when a query returns nothing. */
export function statValues(result: PanelResult): Record<string, number> {
  const calc = result.panel.options.reduceOptions?.calcs[0];
  const defaults = result.panel.fieldConfig.defaults;
  const values: Record<string, number> = {};
  for (const frame of result.frames) {
    const numbers = frame.fields[1].values.filter((v): v is number => typeof v === 'number');
    let value: number | undefined;
    if (calc === 'lastNotNull') value = numbers.at(-1);
    else if (calc === 'sum') value = numbers.reduce((a, b) => a + b, 0);
    else throw new Error(`panel "${result.panel.title}": reducer ${calc} is not emulated`);
    if (value !== undefined) values[defaults.displayName ?? frame.name] = value;
  }
  if (Object.keys(values).length === 0 && defaults.noValue !== undefined) {
    for (const target of result.panel.targets.filter((t) => !t.hide)) values[target.alias ?? defaults.displayName ?? target.refId] = Number(defaults.noValue);
  }
  return values;
}

/** A time-series panel's series, by displayed name: [time, value] points. */
export function seriesPoints(result: PanelResult): Record<string, [number, number | null][]> {
  const series: Record<string, [number, number | null][]> = {};
  for (const frame of result.frames) {
    const name = result.panel.fieldConfig.defaults.displayName ?? frame.name;
    series[name] = frame.fields[0].values.map((t, i) => [Number(t), frame.fields[1].values[i] as number | null]);
  }
  return series;
}
