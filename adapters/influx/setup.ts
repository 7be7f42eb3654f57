/**
 * The database and retention policy a writer needs, created when the credentials allow it. A user
 * without the right carries on: into an existing policy, else into the database's default one.
 */
import type { InfluxDB } from 'influx';
import { httpStatus, isUnreachable } from './errors';

export interface Setup {
  /** The policy to write into; undefined: the database's default. */
  retentionPolicy: string | undefined;
  /** What could not be done, for the status and the log (undefined when all is in place). */
  notice?: string;
}

/** An InfluxQL duration ('400d', '52w', '720h') or INF, in hours (0 for INF, as InfluxDB says it). */
export function durationHours(duration: string): number {
  if (/^inf$/i.test(duration)) return 0;
  const match = /^(\d+)(h|d|w)$/.exec(duration);
  if (!match) throw new TypeError(`retention "${duration}": expected a duration such as 400d, 52w, 720h, or INF`);
  return Number(match[1]) * { h: 1, d: 24, w: 168 }[match[2] as 'h' | 'd' | 'w'];
}

/** InfluxDB's own spelling, e.g. '9600h0m0s' (or '0s'), in hours. */
function shownHours(shown: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(shown);
  return match ? Number(match[1] ?? 0) + Number(match[2] ?? 0) / 60 + Number(match[3] ?? 0) / 3600 : NaN;
}

/**
 * Ensures database and policy. Throws only when InfluxDB cannot be reached (try again later);
 * a refusal (not an admin, say) is reported in `notice` and the writer carries on.
 */
export async function ensureDatabase(influx: InfluxDB, database: string, policy: { name: string; duration: string }): Promise<Setup> {
  const refused: string[] = [];
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      // Unreachable, or credentials InfluxDB does not know: nothing here can work yet.
      if (isUnreachable(err) || httpStatus(err) === 401) throw err;
      refused.push(`${what}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const names = await attempt('list databases', () => influx.getDatabaseNames());
  if (names && !names.includes(database)) await attempt(`create database ${database}`, () => influx.createDatabase(database));
  const hours = durationHours(policy.duration);
  const policies = await attempt('list retention policies', () => influx.showRetentionPolicies(database));
  const existing = policies?.find((p) => p.name === policy.name);
  let usable = existing !== undefined;
  if (!existing && policies) {
    const options = { database, duration: policy.duration, replication: 1, isDefault: true };
    usable = (await attempt(`create retention policy ${policy.name}`, () => influx.createRetentionPolicy(policy.name, options).then(() => true))) ?? false;
  } else if (existing && Math.abs(shownHours(existing.duration) - hours) > 1e-9) {
    await attempt(`alter retention policy ${policy.name}`, () => influx.alterRetentionPolicy(policy.name, { database, duration: policy.duration, replication: existing.replicaN, isDefault: existing.default }));
  }
  const setup: Setup = { retentionPolicy: usable ? policy.name : undefined };
  if (refused.length > 0) setup.notice = refused.join('; ');
  return setup;
}
