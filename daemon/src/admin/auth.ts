/**
 * Who calls the management API. Bearer tokens with roles (viewer < editor < admin) from
 * `--admin-token token:role[:name]`; without any token, only loopback callers are let in, as
 * `local` with the admin role (docs/management-api.md, "Auth").
 */
import { timingSafeEqual } from 'node:crypto';
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
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
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
