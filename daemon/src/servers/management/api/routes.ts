/**
 * The management API routes (docs/management-api.md), as a table: method, path, role, schemas
 * and handler. The plugin registers the table; openapi.ts renders the same table, so every route
 * is in the OpenAPI document with the schemas fastify enforces.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { AdminError, AdminErrorCode } from '../../../admin/errors.js';
import type { Principal, Role } from '../../../admin/auth.js';
import type { FlagService, RefsUpload, WriteResult } from '../../../admin/flag-service.js';
import type { IdempotencyCache, StoredResponse } from '../../../admin/idempotency.js';
import { canonicalJson } from '../../../admin/versions.js';
import type { PrerequisiteRule, Serve } from '../../../rollouts/compile.js';
import type { RolloutRequest } from '../../../rollouts/plan.js';
import {
  auditQuery,
  auditResponse,
  flagCreateBody,
  flagListResponse,
  flagPatchBody,
  flagReplaceBody,
  flagResponse,
  keyParams,
  listQuery,
  prerequisitesBody,
  refsBody,
  refsResponse,
  scheduleBody,
  rolloutActionParams,
  rolloutBody,
  staleQuery,
  staleResponse,
  whoamiResponse,
} from './schemas.js';

export const API_PREFIX = '/api/v1';
/** Request bodies over this are 413. */
export const BODY_LIMIT = 256 * 1024;

export interface RouteContext {
  /** Undefined when no writable source is configured. */
  readonly service: FlagService | undefined;
  readonly idempotency: IdempotencyCache;
  /** The OpenAPI document (for the openapi.json route). */
  readonly openapi: () => unknown;
}

export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Relative to /api/v1, fastify syntax (`/flags/:key`). */
  readonly url: string;
  /** The least role allowed; undefined: no authentication. */
  readonly role: Role | undefined;
  readonly summary: string;
  readonly schema: FastifySchema & { response?: Record<number, unknown> };
  /** Content types of the body (default application/json). */
  readonly bodyTypes?: readonly string[];
  /** Error codes the route answers besides the authentication and rate-limit ones. */
  readonly errors: readonly AdminErrorCode[];
  /** POST routes honour Idempotency-Key. */
  readonly idempotent?: boolean;
  /** The code for a body that breaks `schema.body`; default INVALID_FLAG. */
  readonly bodyError?: AdminErrorCode;
  /** Headers the success response carries. */
  readonly responseHeaders?: readonly string[];
  handler(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext, principal: Principal | undefined): Promise<unknown>;
}

type Params = { key: string };

function service(ctx: RouteContext): FlagService {
  if (ctx.service === undefined) {
    throw new AdminError(
      AdminErrorCode.UNSUPPORTED_SOURCE,
      'no writable flag source: the management API needs a file: or s3:// source (--admin-source, default the first file: source)',
    );
  }
  return ctx.service;
}

function ifMatch(req: FastifyRequest): string | undefined {
  const h = req.headers['if-match'];
  return Array.isArray(h) ? h.join(',') : h;
}

/** Sends a write's flag with its ETag. */
function sendFlag(reply: FastifyReply, status: number, result: WriteResult): StoredResponse {
  const headers: Record<string, string> = result.flag ? { etag: result.flag.version } : {};
  return { status, body: result.flag, headers };
}

async function reply(reply: FastifyReply, r: StoredResponse & { replayed?: boolean }): Promise<unknown> {
  for (const [k, v] of Object.entries(r.headers)) void reply.header(k, v);
  if (r.replayed) void reply.header('idempotent-replayed', 'true');
  reply.code(r.status);
  return r.body;
}

/** Runs a POST once per Idempotency-Key (per caller). */
async function once(req: FastifyRequest, ctx: RouteContext, principal: Principal | undefined, fn: () => Promise<StoredResponse>) {
  const raw = req.headers['idempotency-key'];
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (key === undefined || key === '') return fn();
  if (key.length > 255) throw new AdminError(AdminErrorCode.INVALID_REQUEST, 'Idempotency-Key is longer than 255 characters');
  const fingerprint = createHash('sha256').update(`${req.method} ${req.url}\n${canonicalJson(req.body ?? null)}`).digest('hex');
  return ctx.idempotency.run(principal?.actor ?? '', key, fingerprint, fn);
}

const WRITE_ERRORS = [
  AdminErrorCode.FLAG_NOT_FOUND,
  AdminErrorCode.VERSION_MISMATCH,
  AdminErrorCode.UNSUPPORTED_SOURCE,
  AdminErrorCode.AUDIT_UNAVAILABLE,
  AdminErrorCode.SOURCE_UNAVAILABLE,
  AdminErrorCode.SOURCE_OF_TRUTH_MISMATCH,
] as const;
const ETAG = ['ETag'] as const;

/** `PUT /flags/{key}/<plan>`: a plan compiled into the flag's targeting (rollout, schedule, prerequisites); If-Match optional. */
function planRoute(
  plan: string,
  summary: string,
  body: FastifySchema['body'],
  errors: readonly AdminErrorCode[],
  run: (s: FlagService, actor: string, key: string, body: unknown, pre: { ifMatch: string | undefined; required: boolean }) => Promise<WriteResult>,
): ApiRoute {
  return {
    method: 'PUT',
    url: `/flags/:key/${plan}`,
    role: 'editor',
    summary,
    schema: { params: keyParams, body, response: { 200: flagResponse } },
    bodyError: AdminErrorCode.INVALID_ROLLOUT,
    errors: [AdminErrorCode.INVALID_ROLLOUT, ...errors, ...WRITE_ERRORS],
    responseHeaders: ETAG,
    async handler(req, res, ctx, who) {
      const pre = { ifMatch: ifMatch(req), required: false };
      return reply(res, sendFlag(res, 200, await run(service(ctx), who!.actor, (req.params as Params).key, req.body, pre)));
    },
  };
}

export const API_ROUTES: readonly ApiRoute[] = [
  {
    method: 'GET',
    url: '/flags',
    role: 'viewer',
    summary: 'List flags (filter by state, flag set, text), a page at a time (limit, cursor).',
    schema: { querystring: listQuery, response: { 200: flagListResponse } },
    errors: [AdminErrorCode.INVALID_REQUEST, AdminErrorCode.VERSION_MISMATCH, AdminErrorCode.UNSUPPORTED_SOURCE, AdminErrorCode.SOURCE_UNAVAILABLE, AdminErrorCode.SOURCE_OF_TRUTH_MISMATCH],
    responseHeaders: ETAG,
    async handler(req, res, ctx) {
      const { limit, cursor, ...q } = req.query as { state?: 'ENABLED' | 'DISABLED' | 'ARCHIVED'; flagSet?: string; q?: string; limit?: number; cursor?: string };
      const list = await service(ctx).listJson(q, { ...(limit !== undefined ? { limit } : {}), ...(cursor !== undefined ? { cursor } : {}) });
      void res.header('etag', list.version);
      // Already JSON (flagListResponse's shape), built from per-flag text cached per change: sent as is.
      void res.type('application/json; charset=utf-8');
      return list.json;
    },
  },
  {
    method: 'GET',
    url: '/flags/:key',
    role: 'viewer',
    summary: 'One flag, with its version as ETag.',
    schema: { params: keyParams, response: { 200: flagResponse } },
    errors: [AdminErrorCode.FLAG_NOT_FOUND, AdminErrorCode.UNSUPPORTED_SOURCE, AdminErrorCode.SOURCE_UNAVAILABLE, AdminErrorCode.SOURCE_OF_TRUTH_MISMATCH],
    responseHeaders: ETAG,
    async handler(req, res, ctx) {
      const flag = await service(ctx).get((req.params as Params).key);
      void res.header('etag', flag.version);
      return flag;
    },
  },
  {
    method: 'POST',
    url: '/flags',
    role: 'editor',
    summary: 'Create a flag (409 FLAG_EXISTS if the key exists).',
    schema: { body: flagCreateBody, response: { 201: flagResponse } },
    idempotent: true,
    errors: [AdminErrorCode.INVALID_FLAG, AdminErrorCode.FLAG_EXISTS, AdminErrorCode.PAYLOAD_TOO_LARGE, AdminErrorCode.IDEMPOTENCY_KEY_REUSED, ...WRITE_ERRORS],
    responseHeaders: ETAG,
    async handler(req, res, ctx, who) {
      const s = service(ctx);
      return reply(res, await once(req, ctx, who, async () => sendFlag(res, 201, await s.create(who!.actor, req.body as Record<string, unknown>))));
    },
  },
  {
    method: 'PUT',
    url: '/flags/:key',
    role: 'editor',
    summary: 'Replace a flag (If-Match required).',
    schema: { params: keyParams, body: flagReplaceBody, response: { 200: flagResponse } },
    errors: [AdminErrorCode.INVALID_FLAG, AdminErrorCode.PRECONDITION_REQUIRED, AdminErrorCode.PAYLOAD_TOO_LARGE, ...WRITE_ERRORS],
    responseHeaders: ETAG,
    async handler(req, res, ctx, who) {
      const result = await service(ctx).replace(who!.actor, (req.params as Params).key, req.body as Record<string, unknown>, { ifMatch: ifMatch(req), required: true });
      return reply(res, sendFlag(res, 200, result));
    },
  },
  {
    method: 'PATCH',
    url: '/flags/:key',
    role: 'editor',
    summary: 'JSON merge patch (RFC 7396) of a flag (If-Match required).',
    schema: { params: keyParams, body: flagPatchBody, response: { 200: flagResponse } },
    bodyTypes: ['application/merge-patch+json', 'application/json'],
    errors: [AdminErrorCode.INVALID_FLAG, AdminErrorCode.PRECONDITION_REQUIRED, AdminErrorCode.PAYLOAD_TOO_LARGE, ...WRITE_ERRORS],
    responseHeaders: ETAG,
    async handler(req, res, ctx, who) {
      const validate = req.compileValidationSchema(flagReplaceBody as unknown as Record<string, unknown>);
      const check = (flag: Record<string, unknown>) => {
        if (validate(flag)) return;
        const first = validate.errors?.[0];
        throw new AdminError(AdminErrorCode.INVALID_FLAG, `the patched flag is invalid: ${first ? `${jsonPath(first.instancePath)} ${first.message ?? ''}` : 'schema violation'}`.trim(), {
          path: jsonPath(first?.instancePath ?? ''),
        });
      };
      const result = await service(ctx).patch(who!.actor, (req.params as Params).key, req.body as Record<string, unknown>, { ifMatch: ifMatch(req), required: true }, check);
      return reply(res, sendFlag(res, 200, result));
    },
  },
  {
    method: 'DELETE',
    url: '/flags/:key',
    role: 'admin',
    summary: 'Delete a flag (If-Match required).',
    schema: { params: keyParams, response: { 204: { type: 'null', description: 'Deleted.' } } },
    errors: [AdminErrorCode.PRECONDITION_REQUIRED, ...WRITE_ERRORS],
    async handler(req, res, ctx, who) {
      await service(ctx).remove(who!.actor, (req.params as Params).key, { ifMatch: ifMatch(req), required: true });
      return res.code(204).send();
    },
  },
  ...(['archive', 'restore'] as const).map(
    (action): ApiRoute => ({
      method: 'POST',
      url: `/flags/:key/${action}`,
      role: 'editor',
      summary: action === 'archive' ? 'Archive a flag: DISABLED, metadata.archived (If-Match optional).' : 'Restore an archived flag to its previous state (If-Match optional).',
      schema: { params: keyParams, response: { 200: flagResponse } },
      idempotent: true,
      errors: [AdminErrorCode.IDEMPOTENCY_KEY_REUSED, ...WRITE_ERRORS],
      responseHeaders: ETAG,
      async handler(req, res, ctx, who) {
        const s = service(ctx);
        const key = (req.params as Params).key;
        const pre = { ifMatch: ifMatch(req), required: false };
        return reply(res, await once(req, ctx, who, async () => sendFlag(res, 200, await (action === 'archive' ? s.archive(who!.actor, key, pre) : s.restore(who!.actor, key, pre)))));
      },
    }),
  ),
  {
    method: 'POST',
    url: '/flags/:key/kill',
    role: 'editor',
    summary: 'Kill switch: one write sets state DISABLED and records metadata.killedAt/killedBy (never refused for staleness).',
    schema: { params: keyParams, response: { 200: flagResponse } },
    idempotent: true,
    errors: [AdminErrorCode.IDEMPOTENCY_KEY_REUSED, AdminErrorCode.FLAG_NOT_FOUND, AdminErrorCode.UNSUPPORTED_SOURCE, AdminErrorCode.AUDIT_UNAVAILABLE, AdminErrorCode.SOURCE_UNAVAILABLE, AdminErrorCode.SOURCE_OF_TRUTH_MISMATCH],
    responseHeaders: ETAG,
    async handler(req, res, ctx, who) {
      const s = service(ctx);
      return reply(res, await once(req, ctx, who, async () => sendFlag(res, 200, await s.kill(who!.actor, (req.params as Params).key))));
    },
  },
  planRoute(
    'rollout',
    "Progressive rollout: steps (or a linear plan) compiled into the flag's targeting as plain flagd JSON ($flagd.timestamp, fractional); plan and checksum in metadata (If-Match optional).",
    rolloutBody,
    [AdminErrorCode.ROLLOUT_HAND_EDITED],
    (s, actor, key, body, pre) => s.rollout(actor, key, body as RolloutRequest & { force?: boolean }, pre),
  ),
  {
    method: 'POST',
    url: '/flags/:key/rollout/:action',
    role: 'editor',
    summary: "Pause (hold the share reached), resume (remaining steps move by the pause) or abort (everyone 'off') the flag's rollout (If-Match optional).",
    schema: { params: rolloutActionParams, response: { 200: flagResponse } },
    idempotent: true,
    errors: [AdminErrorCode.NO_ROLLOUT, AdminErrorCode.ROLLOUT_HAND_EDITED, AdminErrorCode.IDEMPOTENCY_KEY_REUSED, ...WRITE_ERRORS],
    responseHeaders: ETAG,
    async handler(req, res, ctx, who) {
      const { key, action } = req.params as Params & { action: 'pause' | 'resume' | 'abort' };
      const pre = { ifMatch: ifMatch(req), required: false };
      return reply(res, await once(req, ctx, who, async () => sendFlag(res, 200, await service(ctx).rolloutControl(who!.actor, key, action, pre))));
    },
  },
  planRoute(
    'schedule',
    "Scheduled changes: from each time on, a variant or a split, compiled into the flag's targeting over $flagd.timestamp (SDKs change at the time even with the daemon down); audited now and as each takes effect (If-Match optional).",
    scheduleBody,
    [AdminErrorCode.ROLLOUT_HAND_EDITED],
    (s, actor, key, body, pre) => s.schedule(actor, key, body as { changes: { at: number | string; serve: Serve }[]; force?: boolean }, pre),
  ),
  {
    method: 'DELETE',
    url: '/flags/:key/schedule',
    role: 'editor',
    summary: "Cancel the flag's schedule: the targeting it started from is back in force (If-Match optional).",
    schema: { params: keyParams, response: { 200: flagResponse } },
    errors: [AdminErrorCode.NO_ROLLOUT, ...WRITE_ERRORS],
    responseHeaders: ETAG,
    async handler(req, res, ctx, who) {
      const pre = { ifMatch: ifMatch(req), required: false };
      return reply(res, sendFlag(res, 200, await service(ctx).cancelSchedule(who!.actor, (req.params as Params).key, pre)));
    },
  },
  planRoute(
    'prerequisites',
    "Prerequisites: the flag's own rules only for units for which each listed flag is in one of its variants, compiled into plain flagd targeting and recompiled when a prerequisite changes (If-Match optional).",
    prerequisitesBody,
    [],
    (s, actor, key, body, pre) => s.setPrerequisites(actor, key, body as PrerequisiteRule, pre),
  ),
  {
    method: 'DELETE',
    url: '/flags/:key/prerequisites',
    role: 'editor',
    summary: "Remove the flag's prerequisites: its own targeting applies to everyone again (If-Match optional).",
    schema: { params: keyParams, response: { 200: flagResponse } },
    errors: [AdminErrorCode.NO_ROLLOUT, AdminErrorCode.INVALID_ROLLOUT, ...WRITE_ERRORS],
    responseHeaders: ETAG,
    async handler(req, res, ctx, who) {
      const pre = { ifMatch: ifMatch(req), required: false };
      return reply(res, sendFlag(res, 200, await service(ctx).removePrerequisites(who!.actor, (req.params as Params).key, pre)));
    },
  },
  {
    method: 'POST',
    url: '/refs',
    role: 'editor',
    summary: 'Upload a `vexil refs` report (what CI does): the stale report then marks flags no code references (not-referenced).',
    schema: { body: refsBody, response: { 200: refsResponse } },
    errors: [AdminErrorCode.UNSUPPORTED_SOURCE, AdminErrorCode.SOURCE_UNAVAILABLE],
    async handler(req, res, ctx) {
      const b = req.body as RefsUpload;
      return reply(res, { status: 200, body: await service(ctx).setRefs({ root: b.root ?? '', generatedAt: b.generatedAt ?? '', referenced: b.referenced, unknown: b.unknown ?? [] }), headers: {} });
    },
  },
  {
    method: 'GET',
    url: '/refs',
    role: 'viewer',
    summary: 'The last uploaded `vexil refs` report (404 NOT_FOUND before the first).',
    schema: { response: { 200: refsResponse } },
    errors: [AdminErrorCode.UNSUPPORTED_SOURCE, AdminErrorCode.NOT_FOUND],
    async handler(_req, res, ctx) {
      const refs = await service(ctx).refs();
      if (refs === undefined) throw new AdminError(AdminErrorCode.NOT_FOUND, 'no refs report uploaded yet (vexil refs <dir> --daemon <url> --upload)');
      return reply(res, { status: 200, body: refs, headers: {} });
    },
  },
  {
    method: 'GET',
    url: '/audit',
    role: 'viewer',
    summary: 'Audit entries, newest first.',
    schema: { querystring: auditQuery, response: { 200: auditResponse } },
    errors: [AdminErrorCode.INVALID_REQUEST, AdminErrorCode.UNSUPPORTED_SOURCE, AdminErrorCode.AUDIT_UNAVAILABLE],
    async handler(req, _res, ctx) {
      const q = req.query as { flag?: string; actor?: string; action?: string; since?: string; until?: string; limit?: number };
      const time = (name: string, v: string | undefined) => {
        if (v === undefined) return undefined;
        const t = Date.parse(v);
        if (!Number.isFinite(t)) throw new AdminError(AdminErrorCode.INVALID_REQUEST, `${name} is not an ISO 8601 time`);
        return t;
      };
      const entries = await service(ctx).auditEntries({
        flag: q.flag,
        actor: q.actor,
        action: q.action,
        sinceMs: time('since', q.since),
        untilMs: time('until', q.until),
        limit: q.limit ?? 100,
      });
      return { entries };
    },
  },
  {
    method: 'GET',
    url: '/stale',
    role: 'viewer',
    summary: 'Stale report: unchanged, single-variant, not-evaluated for N days.',
    schema: { querystring: staleQuery, response: { 200: staleResponse } },
    errors: [AdminErrorCode.INVALID_REQUEST, AdminErrorCode.UNSUPPORTED_SOURCE, AdminErrorCode.SOURCE_UNAVAILABLE, AdminErrorCode.SOURCE_OF_TRUTH_MISMATCH],
    async handler(req, _res, ctx) {
      return service(ctx).stale((req.query as { days?: number }).days ?? 30);
    },
  },
  {
    method: 'GET',
    url: '/whoami',
    role: 'viewer',
    summary: 'The caller: actor and role.',
    schema: { response: { 200: whoamiResponse } },
    errors: [],
    async handler(_req, _res, _ctx, who) {
      return { actor: who!.actor, role: who!.role };
    },
  },
  {
    method: 'GET',
    url: '/openapi.json',
    role: undefined,
    summary: 'This OpenAPI 3.1 document.',
    schema: { response: { 200: { type: 'object', additionalProperties: true } } },
    errors: [],
    async handler(_req, _res, ctx) {
      return ctx.openapi();
    },
  },
];

/** Ajv's `/variants/on` as `$.variants.on`. */
export function jsonPath(instancePath: string): string {
  if (instancePath === '') return '$';
  return `$${instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : /^\d+$/.test(p) ? `[${p}]` : `[${JSON.stringify(p)}]`))
    .join('')}`;
}
