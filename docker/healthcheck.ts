#!/usr/bin/env node
/**
 * The image's HEALTHCHECK: asks the hub in this container for GET /passerelle/api/health (200
 * once the flows run and every input listens). That route is behind the editor's login, so it
 * logs in with PASSERELLE_ADMIN_USER/PASSWORD (a Node-RED admin token) and revokes the token
 * afterwards, so a check every 30 s leaves no sessions behind. With only a password hash in the
 * environment it cannot log in: it then checks that the hub answers (401) and says so.
 * Exit 0: healthy; 1: not.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const TIMEOUT_MS = 5_000;

interface Answer {
  status: number;
  body: string;
}

function call(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // Loopback to this very container: the site certificate names the site, not 127.0.0.1.
    const req = request(url, { method, headers, timeout: TIMEOUT_MS, rejectUnauthorized: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'Content-Type': 'application/json' };

export async function checkHealth(env: Record<string, string | undefined>): Promise<{ healthy: boolean; message: string }> {
  const base = `${env.PASSERELLE_TLS_CERT ? 'https' : 'http'}://127.0.0.1:${env.PORT || '1880'}`;
  const health = `${base}/passerelle/api/health`;
  const user = env.PASSERELLE_ADMIN_USER;
  const password = env.PASSERELLE_ADMIN_PASSWORD;

  if (!user) {
    const answer = await call(health, 'GET', {});
    return { healthy: answer.status === 200, message: `health ${answer.status}: ${answer.body}` };
  }
  if (!password) {
    const answer = await call(health, 'GET', {});
    return { healthy: answer.status === 401, message: `hub answers (${answer.status}); readiness not checked: the healthcheck needs PASSERELLE_ADMIN_PASSWORD to log in` };
  }

  const login = await call(`${base}/auth/token`, 'POST', json, JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: user, password }));
  if (login.status !== 200) return { healthy: false, message: `login refused (${login.status}): check PASSERELLE_ADMIN_USER and PASSERELLE_ADMIN_PASSWORD` };
  const token = (JSON.parse(login.body) as { access_token: string }).access_token;
  const bearer = { Authorization: `Bearer ${token}` };
  try {
    const answer = await call(health, 'GET', bearer);
    return { healthy: answer.status === 200, message: `health ${answer.status}: ${answer.body}` };
  } finally {
    await call(`${base}/auth/revoke`, 'POST', { ...json, ...bearer }, JSON.stringify({ token }));
  }
}

if (require.main === module) {
  checkHealth(process.env).then(
    ({ healthy, message }) => {
      console.log(message);
      process.exit(healthy ? 0 : 1);
    },
    (err: unknown) => {
      console.log(`hub unreachable: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
