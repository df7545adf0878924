// The management API client (/api/v1, same origin). Every answer is { ok, status, body, etag };
// errors are the API's { error: { code, message, path? } } or a network failure (status 0).

const TOKEN_KEY = 'vexil.dashboard.token';
const BASE = '/api/v1';

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: the token lasts as long as the page.
  }
}

/** A random Idempotency-Key (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * One API call. `options`: { method, body, ifMatch, headers }. Never throws: a network error
 * comes back as status 0 with an error body.
 */
export async function request(path, options = {}) {
  // X-Vexil-Request: the API refuses state-changing requests without it or a JSON body (a page
  // of another origin cannot send it without a CORS preflight, which the API never grants).
  const headers = { accept: 'application/json', 'x-vexil-request': 'dashboard', ...options.headers };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.ifMatch) headers['if-match'] = options.ifMatch;
  let body;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let res;
  try {
    res = await fetch(BASE + path, { method: options.method || 'GET', headers, body, cache: 'no-store' });
  } catch (err) {
    return { ok: false, status: 0, body: { error: { code: 'NETWORK', message: `cannot reach the daemon: ${err.message}` } }, etag: null };
  }
  let parsed = null;
  const text = await res.text();
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { error: { code: 'BAD_RESPONSE', message: text.slice(0, 300) } };
    }
  }
  if (!res.ok && !(parsed && parsed.error)) parsed = { error: { code: `HTTP_${res.status}`, message: res.statusText || `HTTP ${res.status}` } };
  return { ok: res.ok, status: res.status, body: parsed, etag: res.headers.get('etag') };
}

const enc = encodeURIComponent;

export const api = {
  whoami: () => request('/whoami'),
  // The list is paged (limit, nextCursor): follow every page, so the table shows all flags.
  listFlags: async (filter = {}) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v) q.set(k, v);
    q.set('limit', '5000');
    let res = await request(`/flags?${q}`);
    const flags = res.ok && res.body ? [...(res.body.flags || [])] : [];
    while (res.ok && res.body && res.body.nextCursor) {
      q.set('cursor', res.body.nextCursor);
      res = await request(`/flags?${q}`);
      if (res.ok && res.body) flags.push(...(res.body.flags || []));
    }
    return res.ok ? { ...res, body: { ...res.body, flags } } : res;
  },
  getFlag: (key) => request(`/flags/${enc(key)}`),
  createFlag: (flag) => request('/flags', { method: 'POST', body: flag, headers: { 'idempotency-key': idempotencyKey(), 'if-none-match': '*' } }),
  replaceFlag: (key, flag, version) => request(`/flags/${enc(key)}`, { method: 'PUT', body: flag, ifMatch: version }),
  patchFlag: (key, patch, version) => request(`/flags/${enc(key)}`, { method: 'PATCH', body: patch, ifMatch: version }),
  deleteFlag: (key, version) => request(`/flags/${enc(key)}`, { method: 'DELETE', ifMatch: version }),
  archiveFlag: (key, version) => request(`/flags/${enc(key)}/archive`, { method: 'POST', ifMatch: version, headers: { 'idempotency-key': idempotencyKey() } }),
  restoreFlag: (key, version) => request(`/flags/${enc(key)}/restore`, { method: 'POST', ifMatch: version, headers: { 'idempotency-key': idempotencyKey() } }),
  // No If-Match: the contract says a kill must never be refused for staleness.
  killFlag: (key) => request(`/flags/${enc(key)}/kill`, { method: 'POST', headers: { 'idempotency-key': idempotencyKey() } }),
  audit: (filter = {}) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== '') q.set(k, String(v));
    const s = q.toString();
    return request(`/audit${s ? `?${s}` : ''}`);
  },
  stale: (days) => request(`/stale${days ? `?days=${enc(days)}` : ''}`),
};
