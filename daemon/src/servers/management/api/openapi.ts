/** The OpenAPI 3.1 document of the management API, rendered from the route table fastify registers. */
import { ADMIN_ERROR_STATUS, AdminErrorCode } from '../../../admin/errors.js';
import { API_PREFIX, type ApiRoute } from './routes.js';
import { errorResponse } from './schemas.js';

const AUTH_ERRORS = [AdminErrorCode.UNAUTHENTICATED, AdminErrorCode.FORBIDDEN, AdminErrorCode.LOOPBACK_ONLY] as const;
/** The browser guards (api-plugin.ts): every route, and the state-changing ones. */
const HOST_ERRORS = [AdminErrorCode.HOST_NOT_ALLOWED] as const;
const WRITE_GUARD_ERRORS = [AdminErrorCode.CROSS_ORIGIN_REQUEST, AdminErrorCode.CSRF_HEADER_REQUIRED] as const;
/** The body parser: not JSON, too deep, a reserved key; another content type. */
const BODY_ERRORS = [AdminErrorCode.INVALID_REQUEST, AdminErrorCode.UNSUPPORTED_MEDIA_TYPE] as const;

export function buildOpenApi(routes: readonly ApiRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = `${API_PREFIX}${route.url.replace(/:(\w+)/g, '{$1}')}`;
    const parameters: unknown[] = [];
    const params = route.schema.params as { properties?: Record<string, unknown>; required?: string[] } | undefined;
    for (const [name, schema] of Object.entries(params?.properties ?? {})) parameters.push({ name, in: 'path', required: true, schema });
    const query = route.schema.querystring as { properties?: Record<string, unknown>; required?: string[] } | undefined;
    for (const [name, schema] of Object.entries(query?.properties ?? {})) {
      parameters.push({ name, in: 'query', required: query?.required?.includes(name) ?? false, schema });
    }
    if (['PUT', 'PATCH', 'DELETE'].includes(route.method) || route.url.endsWith('/archive') || route.url.endsWith('/restore')) {
      const required = route.method !== 'POST';
      parameters.push({ name: 'If-Match', in: 'header', required, schema: { type: 'string' }, description: "The flag's version (its ETag)." });
    }
    const writes = route.method !== 'GET';
    if (writes) {
      parameters.push({
        name: 'X-Vexil-Request',
        in: 'header',
        required: false,
        schema: { type: 'string' },
        description: 'Any value. Required (403 CSRF_HEADER_REQUIRED) unless the body is application/json or application/merge-patch+json.',
      });
    }
    if (route.idempotent) {
      parameters.push({ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 }, description: 'Replays the first response for 24 h.' });
    }

    const responses: Record<string, unknown> = {};
    for (const [status, schema] of Object.entries(route.schema.response ?? {})) {
      const s = schema as { description?: string; type?: string };
      const headers = Object.fromEntries((route.responseHeaders ?? []).map((h) => [h, { schema: { type: 'string' } }]));
      responses[status] =
        s.type === 'null'
          ? { description: s.description ?? 'No content' }
          : { description: route.summary, ...(Object.keys(headers).length > 0 ? { headers } : {}), content: { 'application/json': { schema } } };
    }
    const codes = new Set<AdminErrorCode>([
      ...route.errors,
      ...(route.schema.body !== undefined ? BODY_ERRORS : []),
      ...(route.role !== undefined ? AUTH_ERRORS : []),
      ...HOST_ERRORS,
      ...(writes ? WRITE_GUARD_ERRORS : []),
      AdminErrorCode.RATE_LIMITED,
    ]);
    const byStatus = new Map<number, AdminErrorCode[]>();
    for (const code of codes) byStatus.set(ADMIN_ERROR_STATUS[code], [...(byStatus.get(ADMIN_ERROR_STATUS[code]) ?? []), code]);
    for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
      responses[String(status)] = {
        description: list.join(', '),
        ...(status === 429 ? { headers: { 'Retry-After': { schema: { type: 'integer' } } } } : {}),
        ...(status === 401 ? { headers: { 'WWW-Authenticate': { schema: { type: 'string' } } } } : {}),
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }

    const operation: Record<string, unknown> = {
      operationId: operationId(route),
      summary: route.summary,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.schema.body !== undefined
        ? { requestBody: { required: true, content: Object.fromEntries((route.bodyTypes ?? ['application/json']).map((t) => [t, { schema: route.schema.body }])) } }
        : {}),
      responses,
      security: route.role === undefined ? [] : [{ bearer: [] }],
      ...(route.role !== undefined ? { 'x-vexil-role': route.role } : {}),
    };
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Vexil management API',
      version,
      description: 'Flags, kill switch, audit log and stale report; see daemon/docs/management-api.md.',
    },
    paths,
    components: {
      schemas: { Error: errorResponse },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token from --admin-token token:role[:name].' } },
    },
    security: [{ bearer: [] }],
  };
}

function operationId(route: ApiRoute): string {
  const parts = route.url.split('/').filter((p) => p !== '' && !p.startsWith(':'));
  const verb = { GET: route.url.includes(':key') && !route.url.endsWith('s') ? 'get' : 'list', POST: 'post', PUT: 'replace', PATCH: 'patch', DELETE: 'delete' }[route.method];
  return [verb, ...parts].map((p, i) => (i === 0 ? p : p.replace(/[^a-z0-9]+(.)?/gi, (_m, c: string | undefined) => (c ?? '').toUpperCase()).replace(/^./, (c) => c.toUpperCase()))).join('');
}
