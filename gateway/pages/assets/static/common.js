// What every page shares: its configuration and messages, the login (Node-RED's own
// /auth/token, the token kept in sessionStorage), the API, the live stream, time formatting.

const config = JSON.parse(document.getElementById('page-config').textContent);
export const { lang, site, timeZone } = config;

/** The message for `key`, with {name} placeholders filled. */
export function t(key, values = {}) {
  const message = config.messages[key] ?? key;
  return message.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
}

/** A new element: el('td', { class: 'x', title: 'y' }, 'text', child, ...). Text is never parsed as HTML. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const dateTime = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', {
  timeZone, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

/** An instant (RFC 3339 or epoch ms) as the site's wall time, e.g. 23/11/2026 09:41:07. */
export function formatTime(instant) {
  const date = new Date(instant);
  return Number.isNaN(date.getTime()) ? String(instant ?? '') : dateTime.format(date);
}

export function showError(element, text) {
  element.textContent = text ?? '';
  element.hidden = !text;
}

// Login. Node-RED answers GET /auth/login with its prompts when a login is set, {} when open.

const TOKEN_KEY = 'passerelle-pages-token';
const AUTH = new URL('../auth/', document.baseURI);
let token = sessionStorage.getItem(TOKEN_KEY) ?? undefined;
let loginNeeded;
let signedIn;

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function needsLogin() {
  if (loginNeeded === undefined) {
    const answer = await fetch(new URL('login', AUTH), { headers: { accept: 'application/json' } });
    const body = await answer.json();
    loginNeeded = Array.isArray(body.prompts) && body.prompts.length > 0;
  }
  return loginNeeded;
}

/** Shows the login form and resolves once the user signed in. */
function askLogin() {
  signedIn ??= new Promise((resolve) => {
    const section = document.getElementById('login');
    const form = document.getElementById('login-form');
    const error = document.getElementById('login-error');
    document.getElementById('content').hidden = true;
    section.hidden = false;
    form.elements.username.focus();
    const onSubmit = async (event) => {
      event.preventDefault();
      const username = form.elements.username.value.trim();
      const password = form.elements.password.value;
      if (!username || !password) return showError(error, t('login.missing'));
      try {
        const answer = await fetch(new URL('token', AUTH), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          // As the editor signs in: the scope is the user's own permissions (a read-only user may read).
          body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '', username, password }),
        });
        if (answer.status === 401 || answer.status === 403) return showError(error, t('login.failed'));
        if (!answer.ok) return showError(error, t('login.unreachable', { reason: `HTTP ${answer.status}` }));
        token = (await answer.json()).access_token;
        sessionStorage.setItem(TOKEN_KEY, token);
      } catch (err) {
        return showError(error, t('login.unreachable', { reason: err.message }));
      }
      form.removeEventListener('submit', onSubmit);
      form.reset();
      showError(error, '');
      section.hidden = true;
      document.getElementById('content').hidden = false;
      signedIn = undefined;
      showLogout();
      resolve();
    };
    form.addEventListener('submit', onSubmit);
  });
  return signedIn;
}

function showLogout() {
  const button = document.getElementById('logout');
  button.hidden = !token;
  button.onclick = async () => {
    const revoked = token;
    token = undefined;
    sessionStorage.removeItem(TOKEN_KEY);
    await fetch(new URL('revoke', AUTH), {
      method: 'POST',
      headers: { authorization: `Bearer ${revoked}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token: revoked }),
    }).catch(() => undefined);
    location.reload();
  };
}

/** Resolves once the page may read the API: at once in the open demo, after a login otherwise. */
export async function ready() {
  if ((await needsLogin()) && !token) await askLogin();
  showLogout();
  document.getElementById('content').hidden = false;
}

function authorization() {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** fetch() on the hub API (path relative to /passerelle/api/), signing in again when the token expired. */
export async function api(path, options = {}) {
  for (;;) {
    const answer = await fetch(new URL(`api/${path}`, document.baseURI), {
      ...options,
      headers: { accept: 'application/json', ...options.headers, ...authorization() },
    });
    if (answer.status === 401) {
      token = undefined;
      sessionStorage.removeItem(TOKEN_KEY);
      await askLogin();
      continue;
    }
    if (answer.status === 403) throw new HttpError(403, t('error.forbidden'));
    return answer;
  }
}

/** GET a JSON resource of the API; throws with a readable message. */
export async function getJson(path) {
  const answer = await api(path);
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new HttpError(answer.status, body.error ?? `HTTP ${answer.status}`);
  return body;
}

// Live changes: server-sent events read with fetch (EventSource cannot send the bearer token).

const live = document.getElementById('live');

function setLive(state) {
  live.dataset.state = state;
  live.textContent = t(state === 'on' ? 'live.on' : state === 'paused' ? 'live.paused' : 'live.off');
}

/** Parses an event stream; calls onEvent(name, data) per event. */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length > 0) onEvent(name, JSON.parse(data.join('\n')));
    }
  }
}

/**
 * Calls onChange({results?, resync?}) for every change the hub announces, and {resync: true}
 * after each reconnection (what happened meanwhile was not announced). Never returns.
 */
export async function followChanges(onChange) {
  let first = true;
  for (;;) {
    try {
      const answer = await api('events', { headers: { accept: 'text/event-stream' } });
      if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
      await readEvents(answer.body, (name, data) => {
        if (name === 'ready') {
          setLive(data.live ? 'on' : 'paused');
          if (!first) onChange({ resync: true });
          first = false;
        } else if (name === 'status') {
          setLive(data.live ? 'on' : 'paused');
        } else if (name === 'change') {
          onChange(data);
        }
      });
    } catch {
      // The hub restarting, a proxy timing out: try again shortly.
    }
    setLive('off');
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** Runs `task` at most once at a time; calls during a run make it run once more after. */
export function serialised(task) {
  let running;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await task();
      } while (again);
    })();
    try {
      await running;
    } finally {
      running = undefined;
    }
  };
  return run;
}

/** Keeps ?lang= on the navigation and the language switch keeping the page's own query. */
export function keepQueryInLinks() {
  const switcher = document.getElementById('language');
  const query = new URLSearchParams(location.search);
  query.set('lang', switcher.getAttribute('hreflang'));
  switcher.href = `?${query}`;
}

// The derived delivery state of one destination, in the nurses' words.
const NEGATIVE_ACK = /^(AE|AR|CE|CR)\b/;

export function deliveryState(delivery) {
  switch (delivery.state) {
    case 'accepted': return 'accepted';
    case 'dead': return 'dead';
    case 'sent': return 'sent';
    case 'waiting': return NEGATIVE_ACK.test(delivery.lastError ?? '') ? 'rejected' : 'waiting';
    default: return delivery.attempts > 0 ? 'waiting' : 'received';
  }
}

/** Family name in capitals then given names, as French records print it. */
export function personName(name) {
  if (!name) return '';
  return [name.family, ...(name.given ?? [])].filter(Boolean).join(' ');
}

/** What the exam is: the order's code, else the observations' names. */
export function examOf(result) {
  const order = result.order?.code;
  if (order) return order.display ?? order.code;
  const names = (result.observations ?? []).map((o) => o.code?.display ?? o.deviceCode?.display ?? o.code?.code ?? o.deviceCode?.code).filter(Boolean);
  if (names.length <= 3) return names.join(', ');
  return `${names.slice(0, 3).join(', ')} ${t('exam.more', { count: names.length - 3 })}`;
}
