// @ts-check
// The management API client (/api/v1, same origin). Every answer is an ApiResult (types.d.ts):
// { ok: true, status, body, etag } with the body the route's schema promises, or { ok: false,
// status, body: { error: { code, message, path? } }, etag }: the API's own error, or one made up
// here for a network failure (status 0), an error without a JSON body, or a body that is not JSON.
// This is the one place that knows the envelope; the views read the typed bodies.

/** @typedef {import('./types.js').ApiError} ApiError */
/** @typedef {import('./types.js').ApiFailure} ApiFailure */
/** @typedef {import('./types.js').AuditFilter} AuditFilter */
/** @typedef {import('./types.js').AuditPage} AuditPage */
/** @typedef {import('./types.js').Flag} Flag */
/** @typedef {import('./types.js').FlagDefinition} FlagDefinition */
/** @typedef {import('./types.js').FlagFilter} FlagFilter */
/** @typedef {import('./types.js').FlagList} FlagList */
/** @typedef {import('./types.js').FlagPatch} FlagPatch */
/** @typedef {import('./types.js').RequestOptions} RequestOptions */
/** @typedef {import('./types.js').StaleReport} StaleReport */
/** @typedef {import('./types.js').Whoami} Whoami */
/**
 * @template T
 * @typedef {import('./types.js').ApiResult<T>} ApiResult
 */

const TOKEN_KEY = 'vexil.dashboard.token';
const BASE = '/api/v1';

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

/** @param {string} token '' forgets it */
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
 * @param {number} status
 * @param {string} code
 * @param {string} message
 * @param {string | null} [etag]
 * @returns {ApiFailure}
 */
const failure = (status, code, message, etag = null) => ({ ok: false, status, body: { error: { code, message } }, etag });

/** @param {unknown} body */
const hasError = (body) => typeof body === 'object' && body !== null && typeof (/** @type {{ error?: unknown }} */ (body).error) === 'object' && /** @type {{ error: unknown }} */ (body).error !== null;

/**
 * One API call; `T` is the body the route's response schema promises on success. Never throws.
 * @template T
 * @param {string} path
 * @param {RequestOptions} [options]
 * @returns {Promise<ApiResult<T>>}
 */
export async function request(path, options = {}) {
  // X-Vexil-Request: the API refuses state-changing requests without it or a JSON body (a page
  // of another origin cannot send it without a CORS preflight, which the API never grants).
  /** @type {Record<string, string>} */
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
    return failure(0, 'NETWORK', `cannot reach the daemon: ${err instanceof Error ? err.message : String(err)}`);
  }
  const etag = res.headers.get('etag');
  const text = await res.text();
  /** @type {unknown} */
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not the API (a proxy's page, say): an error whatever the status, so no view reads it as a body.
      return failure(res.ok ? 502 : res.status, 'BAD_RESPONSE', text.slice(0, 300), etag);
    }
  }
  if (res.ok) return { ok: true, status: res.status, body: /** @type {T} */ (parsed), etag };
  if (hasError(parsed)) return { ok: false, status: res.status, body: /** @type {{ error: ApiError }} */ (parsed), etag };
  return failure(res.status, `HTTP_${res.status}`, res.statusText || `HTTP ${res.status}`, etag);
}

const enc = encodeURIComponent;

/**
 * Every page of the flag list, as one answer (the first page's version, all pages' flags).
 * @param {FlagFilter} [filter]
 * @returns {Promise<ApiResult<FlagList>>}
 */
async function listFlags(filter = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v) q.set(k, v);
  q.set('limit', '5000');
  /** @type {ApiResult<FlagList>} */
  let res = await request(`/flags?${q}`);
  if (!res.ok) return res;
  const first = res;
  const flags = [...res.body.flags];
  while (res.body.nextCursor) {
    q.set('cursor', res.body.nextCursor);
    /** @type {ApiResult<FlagList>} */
    const next = await request(`/flags?${q}`);
    if (!next.ok) return next;
    flags.push(...next.body.flags);
    res = next;
  }
  return { ...first, body: { ...first.body, flags, nextCursor: undefined } };
}

/** @param {Record<string, string | undefined>} filter */
const query = (filter) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
};

export const api = {
  /** @returns {Promise<ApiResult<Whoami>>} */
  whoami: () => request('/whoami'),
  // The list is paged (limit, nextCursor): follow every page, so the table shows all flags.
  listFlags,
  /** @param {string} key @returns {Promise<ApiResult<Flag>>} */
  getFlag: (key) => request(`/flags/${enc(key)}`),
  /** @param {FlagDefinition} flag @returns {Promise<ApiResult<Flag>>} */
  createFlag: (flag) => request('/flags', { method: 'POST', body: flag, headers: { 'idempotency-key': idempotencyKey(), 'if-none-match': '*' } }),
  /** @param {string} key @param {Omit<FlagDefinition, 'key'>} flag @param {string} version @returns {Promise<ApiResult<Flag>>} */
  replaceFlag: (key, flag, version) => request(`/flags/${enc(key)}`, { method: 'PUT', body: flag, ifMatch: version }),
  /** @param {string} key @param {FlagPatch} patch @param {string} version @returns {Promise<ApiResult<Flag>>} */
  patchFlag: (key, patch, version) => request(`/flags/${enc(key)}`, { method: 'PATCH', body: patch, ifMatch: version }),
  /** 204, no body. @param {string} key @param {string} version @returns {Promise<ApiResult<null>>} */
  deleteFlag: (key, version) => request(`/flags/${enc(key)}`, { method: 'DELETE', ifMatch: version }),
  /** @param {string} key @param {string} version @returns {Promise<ApiResult<Flag>>} */
  archiveFlag: (key, version) => request(`/flags/${enc(key)}/archive`, { method: 'POST', ifMatch: version, headers: { 'idempotency-key': idempotencyKey() } }),
  /** @param {string} key @param {string} version @returns {Promise<ApiResult<Flag>>} */
  restoreFlag: (key, version) => request(`/flags/${enc(key)}/restore`, { method: 'POST', ifMatch: version, headers: { 'idempotency-key': idempotencyKey() } }),
  // No If-Match: the contract says a kill must never be refused for staleness.
  /** @param {string} key @returns {Promise<ApiResult<Flag>>} */
  killFlag: (key) => request(`/flags/${enc(key)}/kill`, { method: 'POST', headers: { 'idempotency-key': idempotencyKey() } }),
  /** @param {string} key @param {'pause' | 'resume' | 'abort'} action @param {string} version @returns {Promise<ApiResult<Flag>>} */
  rolloutAction: (key, action, version) =>
    request(`/flags/${enc(key)}/rollout/${action}`, { method: 'POST', ifMatch: version, headers: { 'idempotency-key': idempotencyKey() } }),
  /** @param {string} key @param {string} version @returns {Promise<ApiResult<Flag>>} */
  cancelSchedule: (key, version) => request(`/flags/${enc(key)}/schedule`, { method: 'DELETE', ifMatch: version }),
  /** @param {AuditFilter} [filter] @returns {Promise<ApiResult<AuditPage>>} */
  audit: (filter = {}) => request(`/audit${query({ ...filter })}`),
  /** @param {string} [days] @returns {Promise<ApiResult<StaleReport>>} */
  stale: (days) => request(`/stale${days ? `?days=${enc(days)}` : ''}`),
};
