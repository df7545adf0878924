/**
 * Who calls the management API. Bearer tokens with roles (viewer < editor < admin) from
 * `--admin-token token:role[:name]`; without any token, only loopback callers are let in, as
 * `local` with the admin role (docs/management-api.md, "Auth").
 */
import { timingSafeEqual } from 'node:crypto';
import { clientAddress } from '../net/client-address.js';
import { AdminError, AdminErrorCode } from './errors.js';
import { sha256Hex } from './versions.js';

export const Role = { viewer: 'viewer', editor: 'editor', admin: 'admin' } as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ROLES: readonly Role[] = [Role.viewer, Role.editor, Role.admin];

export interface AdminToken {
  readonly token: string;
  readonly role: Role;
  /** The actor recorded in the audit log. */
  readonly name: string;
}

export interface Principal {
  readonly actor: string;
  readonly role: Role;
}

export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** `token:role[:name]`; undefined when malformed (the config parser names the setting). */
export function parseAdminToken(spec: string): AdminToken | { error: string } {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3) return { error: 'expected token:role or token:role:name' };
  const [token, role, name] = parts;
  if (token.length < 8) return { error: 'the token must be at least 8 characters' };
  if (!(ROLES as readonly string[]).includes(role)) return { error: `unknown role ${JSON.stringify(role)}: expected viewer, editor or admin` };
  if (name !== undefined && name.trim() === '') return { error: 'the name after the role is empty' };
  return { token, role: role as Role, name: name?.trim() ?? `${role}-${sha256Hex(token).slice(0, 8)}` };
}

/** Loopback: 127.0.0.0/8, ::1, and their IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  const a = clientAddress(address);
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

export class Authenticator {
  private readonly byDigest = new Map<string, AdminToken>();

  constructor(readonly tokens: readonly AdminToken[]) {
    for (const t of tokens) this.byDigest.set(sha256Hex(t.token), t);
  }

  get loopbackOnly(): boolean {
    return this.tokens.length === 0;
  }

  /** The caller, or a 401/403 AdminError. */
  authenticate(authorization: string | undefined, remoteAddress: string | undefined): Principal {
    if (this.loopbackOnly) {
      if (!isLoopback(remoteAddress)) {
        throw new AdminError(AdminErrorCode.LOOPBACK_ONLY, 'no admin tokens are configured (--admin-token): the management API answers loopback callers only');
      }
      return { actor: 'local', role: Role.admin };
    }
    const m = authorization === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (!m) throw new AdminError(AdminErrorCode.UNAUTHENTICATED, 'missing bearer token (Authorization: Bearer <token>)');
    // Compare digests of equal length: the lookup by digest reveals nothing about the token itself.
    const digest = sha256Hex(m[1]);
    const found = this.byDigest.get(digest);
    if (found === undefined || !timingSafeEqual(Buffer.from(sha256Hex(found.token)), Buffer.from(digest))) {
      throw new AdminError(AdminErrorCode.UNAUTHENTICATED, 'unknown bearer token');
    }
    return { actor: found.name, role: found.role };
  }

  /** Throws FORBIDDEN when `principal` lacks `needed`. */
  authorize(principal: Principal, needed: Role): void {
    if (!roleAtLeast(principal.role, needed)) {
      throw new AdminError(AdminErrorCode.FORBIDDEN, `this call needs the ${needed} role; ${principal.actor} has ${principal.role}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Browser guards (docs/management-api.md, "Browsers: cross-site requests and DNS rebinding").
// A web page the operator visits can send requests to http://127.0.0.1:8014 (form posts, fetch
// in no-cors mode, DNS rebinding); these checks refuse what such a page can send.

/** The header that marks a state-changing request as not a cross-site form or no-cors fetch. */
export const REQUEST_HEADER = 'x-vexil-request';
/** Content types a browser can only send cross-origin after a CORS preflight (which the API never grants). */
export const JSON_CONTENT_TYPES: readonly string[] = ['application/json', 'application/merge-patch+json'];

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The host name of a Host header (no port, lower case, IPv6 without brackets), or undefined when malformed. */
export function hostName(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const h = host.trim().toLowerCase();
  const m = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(h) ?? /^([^:[\]\s/@]+)(?::(\d{1,5}))?$/.exec(h);
  if (!m || m[1] === '') return undefined;
  return m[1].endsWith('.') ? m[1].slice(0, -1) : m[1];
}

/** localhost, *.localhost, 127.0.0.0/8 and ::1: names a DNS rebinding attacker cannot point at this machine. */
export function isLoopbackHost(host: string | undefined): boolean {
  const name = hostName(host);
  if (name === undefined) return false;
  return name === 'localhost' || name.endsWith('.localhost') || isLoopback(name);
}

/**
 * Without tokens (loopback mode): refuses a Host that is not a loopback name with 403
 * HOST_NOT_ALLOWED. A page on `evil.example` whose DNS answer changes to 127.0.0.1 reaches the
 * daemon as same-origin to itself, but its requests still carry `Host: evil.example`.
 */
export function checkLoopbackHost(host: string | undefined): void {
  if (isLoopbackHost(host)) return;
  throw new AdminError(
    AdminErrorCode.HOST_NOT_ALLOWED,
    `Host ${host === undefined ? '(none)' : JSON.stringify(host)} is not a loopback name: without admin tokens (--admin-token) the management port answers only Host localhost, 127.0.0.1 or [::1] (any port), so a DNS-rebinding page cannot reach it; open http://127.0.0.1:<port>/ or configure tokens`,
  );
}

/** GET, HEAD and OPTIONS change nothing; every other method does. */
export function isStateChanging(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}

/**
 * A state-changing request from a browser must come from the daemon's own origin: 403
 * CROSS_ORIGIN_REQUEST when `Sec-Fetch-Site` is anything but `same-origin` or `none` (a typed
 * URL), or, without that header, when `Origin` is not this Host. `same-site` is refused too:
 * `http://127.0.0.1:8080` is same-site with `http://127.0.0.1:8014` but another origin.
 * Clients that are not browsers send neither header and pass.
 */
export function checkSameOrigin(method: string, headers: Headers): void {
  const site = header(headers, 'sec-fetch-site');
  const refuse = (why: string) => {
    throw new AdminError(
      AdminErrorCode.CROSS_ORIGIN_REQUEST,
      `refused a cross-origin ${method} (${why}): the management API takes state-changing requests only from its own origin (the dashboard on this port) or from clients that are not browsers`,
    );
  };
  if (site !== undefined) {
    const s = site.trim().toLowerCase();
    if (s !== 'same-origin' && s !== 'none') refuse(`Sec-Fetch-Site: ${site}`);
    return;
  }
  const origin = header(headers, 'origin');
  if (origin === undefined) return;
  let originHost: string | undefined;
  try {
    originHost = origin === 'null' ? undefined : new URL(origin).host;
  } catch {
    originHost = undefined;
  }
  const host = header(headers, 'host')?.trim().toLowerCase();
  // URL drops the scheme's default port (http://x:80 → "x"); so does the browser's Host.
  if (originHost === undefined || host === undefined || originHost !== host.replace(/:80$/, '')) refuse(`Origin: ${origin}, Host: ${host ?? '(none)'}`);
}

/**
 * A state-changing request must carry a JSON Content-Type or the X-Vexil-Request header (any
 * value): a browser sends neither cross-origin without a CORS preflight, and the API answers no
 * preflight, so an HTML form or a no-cors fetch (text/plain, form-urlencoded, multipart, or no
 * body) is refused with 403 CSRF_HEADER_REQUIRED before anything else happens.
 */
export function checkPreflightForced(method: string, headers: Headers): void {
  const marker = header(headers, REQUEST_HEADER);
  if (marker !== undefined && marker.trim() !== '') return;
  const type = header(headers, 'content-type')?.split(';')[0].trim().toLowerCase();
  if (type !== undefined && JSON_CONTENT_TYPES.includes(type)) return;
  throw new AdminError(
    AdminErrorCode.CSRF_HEADER_REQUIRED,
    `a ${method} needs Content-Type: application/json (or application/merge-patch+json) or an X-Vexil-Request header (any value; \`vexil kill\` and the dashboard send it)${type === undefined ? '' : `, not Content-Type: ${type}`}: a web page cannot send either across origins without a CORS preflight, which this API never grants`,
  );
}

// ---------------------------------------------------------------------------------------------
// Failed authentication, per address.

/** The address a failure counts against: IPv4 (also IPv4-mapped), or the /64 of an IPv6 address. */
export function addressKey(address: string | undefined): string {
  const a = clientAddress(address);
  if (!a.includes(':')) return a;
  const [head, tail] = a.split('%')[0].toLowerCase().split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups
    .slice(0, 4)
    .map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16).toString(16) : g))
    .join(':')}::/64`;
}

/**
 * Counts failed authentications (an Authorization header with no known token) per address in a
 * fixed window; once `max` are reached, `retryAfterMs` is positive and the API refuses every
 * request from that address with 429 before looking at its token (so a guess can no longer be
 * checked at all, right or wrong). Bounded: at most `maxAddresses` are tracked.
 */
export class AuthFailureLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    readonly max: number,
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Milliseconds until `address` may authenticate again; 0 when it may now. */
  retryAfterMs(address: string | undefined): number {
    const w = this.windows.get(addressKey(address));
    if (w === undefined) return 0;
    const left = w.resetAt - this.now();
    if (left <= 0) {
      this.windows.delete(addressKey(address));
      return 0;
    }
    return w.count >= this.max ? left : 0;
  }

  fail(address: string | undefined): void {
    const key = addressKey(address);
    const now = this.now();
    const w = this.windows.get(key);
    if (w !== undefined && w.resetAt > now) {
      w.count++;
      return;
    }
    this.windows.delete(key);
    if (this.windows.size >= this.maxAddresses) this.prune(now);
    this.windows.set(key, { count: 1, resetAt: now + this.windowMs });
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
    // Still full: forget the oldest windows (Map order is insertion order).
    for (const k of this.windows.keys()) {
      if (this.windows.size < this.maxAddresses) break;
      this.windows.delete(k);
    }
  }
}
