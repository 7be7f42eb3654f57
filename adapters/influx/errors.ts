/** What an error from the `influx` client means for the writer. */
import { ResultError } from 'influx';
import { RequestError } from 'influx/lib/src/pool';

export type WriteFailure =
  /** InfluxDB down, slow, or answering 5xx: wait and try again. */
  | { kind: 'unreachable'; message: string }
  /** 401/403: the credentials; wait (someone must fix them) and try again. */
  | { kind: 'refused'; message: string }
  /** Database or retention policy missing: set up again, then try again. */
  | { kind: 'setup'; message: string }
  /** 400/413 that is about the points: split the batch, set aside the point that fails alone. */
  | { kind: 'bad-points'; message: string };

/** The HTTP status of a 3xx/4xx answer (the client's RequestError); undefined for anything else. */
export function httpStatus(err: unknown): number | undefined {
  return err instanceof RequestError ? err.res?.statusCode : undefined;
}

/** 4xx answers come as RequestError (with res); 5xx, timeouts and sockets as anything else. */
export function classifyWriteError(err: unknown): WriteFailure {
  const message = err instanceof Error ? err.message : String(err);
  const status = httpStatus(err);
  if (status === undefined) return { kind: 'unreachable', message };
  if (status === 401 || status === 403) return { kind: 'refused', message };
  if (status === 404 || /database not found|retention policy not found/.test(message)) return { kind: 'setup', message };
  if (status === 400 || status === 413) return { kind: 'bad-points', message };
  return { kind: 'unreachable', message };
}

/** An InfluxQL error in a 200 answer (ResultError) came from a server that is there. */
export function isUnreachable(err: unknown): boolean {
  return !(err instanceof ResultError) && classifyWriteError(err).kind === 'unreachable';
}
