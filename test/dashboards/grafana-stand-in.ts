/**
 * A stand-in for Grafana's HTTP API, for the push command's tests: no Grafana runs here (it is
 * not in Debian and there is no network to fetch it). It answers the calls the command makes the
 * way Grafana 10/11 documents them — auth by service account token (Bearer) or basic auth, 401
 * otherwise; GET/POST datasources and folders; POST /api/dashboards/db that refuses an existing
 * uid without overwrite (412) and a body without dashboard.title — and records every request.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { freePort } from '../support/net';

export interface RecordedRequest {
  method: string;
  path: string;
  authorization?: string;
  body?: unknown;
}

export interface StoredDashboard {
  dashboard: Record<string, unknown>;
  folderUid?: string;
  version: number;
  message?: string;
}

export interface GrafanaStandIn {
  url: string;
  requests: RecordedRequest[];
  datasources: Map<string, Record<string, unknown>>;
  folders: Map<string, { uid: string; title: string }>;
  dashboards: Map<string, StoredDashboard>;
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

export async function startGrafanaStandIn(credentials: { token?: string; username?: string; password?: string }): Promise<GrafanaStandIn> {
  const port = await freePort();
  const state: Omit<GrafanaStandIn, 'url' | 'close'> = { requests: [], datasources: new Map(), folders: new Map(), dashboards: new Map() };
  const accepted = new Set<string>();
  if (credentials.token) accepted.add(`Bearer ${credentials.token}`);
  if (credentials.username) accepted.add(`Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`);

  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    readJson(req).then((body) => {
      const path = req.url ?? '/';
      state.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
      if (!accepted.has(req.headers.authorization ?? '')) return reply(401, { message: 'Unauthorized' });
      let match: RegExpExecArray | null;
      if (req.method === 'GET' && (match = /^\/api\/datasources\/uid\/([\w-]+)$/.exec(path))) {
        const found = state.datasources.get(match[1]);
        return found ? reply(200, found) : reply(404, { message: 'Data source not found' });
      }
      if (req.method === 'POST' && path === '/api/datasources') {
        const ds = body as Record<string, unknown>;
        if (!ds?.name || !ds.type || !ds.access) return reply(400, { message: 'bad request data' });
        if ([...state.datasources.values()].some((d) => d.name === ds.name)) return reply(409, { message: 'data source with the same name already exists' });
        state.datasources.set(String(ds.uid), ds);
        return reply(200, { id: state.datasources.size, message: 'Datasource added', name: ds.name, datasource: ds });
      }
      if (req.method === 'GET' && (match = /^\/api\/folders\/([\w-]+)$/.exec(path))) {
        const found = state.folders.get(match[1]);
        return found ? reply(200, found) : reply(404, { message: 'folder not found', status: 'not-found' });
      }
      if (req.method === 'POST' && path === '/api/folders') {
        const folder = body as { uid: string; title: string };
        if (!folder?.title) return reply(400, { message: 'folder title cannot be empty' });
        state.folders.set(folder.uid, folder);
        return reply(200, { ...folder, id: state.folders.size, url: `/dashboards/f/${folder.uid}/` });
      }
      if (req.method === 'POST' && path === '/api/dashboards/db') {
        const save = body as { dashboard?: Record<string, unknown>; folderUid?: string; overwrite?: boolean; message?: string };
        const dashboard = save?.dashboard;
        if (!dashboard || typeof dashboard.title !== 'string' || dashboard.title === '') return reply(400, { message: 'Dashboard title cannot be empty' });
        if (save.folderUid && !state.folders.has(save.folderUid)) return reply(400, { message: 'folder not found' });
        const uid = String(dashboard.uid);
        const before = state.dashboards.get(uid);
        if (before && !save.overwrite) return reply(412, { message: 'A dashboard with the same uid already exists', status: 'name-exists' });
        if (dashboard.id !== null && dashboard.id !== undefined) return reply(404, { message: 'Dashboard not found', status: 'not-found' });
        const version = (before?.version ?? 0) + 1;
        state.dashboards.set(uid, { dashboard, folderUid: save.folderUid, version, message: save.message });
        return reply(200, { id: state.dashboards.size, uid, url: `/d/${uid}/${uid}`, status: 'success', version, slug: uid });
      }
      return reply(404, { message: 'Not found' });
    }).catch((err: unknown) => reply(400, { message: `bad JSON: ${(err as Error).message}` }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    ...state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
