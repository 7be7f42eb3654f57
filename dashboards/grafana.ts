/**
 * The few calls of Grafana's HTTP API that pushing the dashboards needs, with Node's fetch
 * (no client library: see docs/dependencies.md), and errors that say what to fix.
 */
export type GrafanaAuth = { token: string } | { username: string; password: string };

export class GrafanaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GrafanaError';
  }
}

export interface GrafanaResponse<T> {
  status: number;
  body: T;
}

function authorization(auth: GrafanaAuth): string {
  if ('token' in auth) return `Bearer ${auth.token}`;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

/** Why Grafana said no, in words a technician can act on. */
function refusal(status: number, what: string, message: string | undefined): string {
  if (status === 401) return `Grafana refused the credentials (401 on ${what}): check GRAFANA_TOKEN, or GRAFANA_USER and GRAFANA_PASSWORD`;
  if (status === 403) return `Grafana does not allow ${what} with these credentials (403): the service account or user needs the Editor role for dashboards and Admin to create the datasource`;
  return `Grafana answered ${status} to ${what}${message ? `: ${message}` : ''}`;
}

export class GrafanaClient {
  private readonly base: string;

  constructor(url: string, private readonly auth: GrafanaAuth, private readonly timeoutMs = 15_000) {
    this.base = url.replace(/\/+$/, '');
  }

  /** Sends one request; `allowed` statuses (besides 2xx) are returned instead of thrown. */
  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, allowed: number[] = []): Promise<GrafanaResponse<T>> {
    const what = `${method} ${path}`;
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: { Authorization: authorization(this.auth), Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new GrafanaError(`cannot reach Grafana at ${this.base} (${what}): ${cause}; check GRAFANA_URL`);
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (a proxy's error page): keep the text for the message.
    }
    if (!response.ok && !allowed.includes(response.status)) {
      const message = typeof parsed === 'object' && parsed !== null ? (parsed as { message?: string }).message : text.slice(0, 200);
      throw new GrafanaError(refusal(response.status, what, message));
    }
    return { status: response.status, body: parsed as T };
  }
}
