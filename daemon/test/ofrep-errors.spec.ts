/**
 * The OFREP error catalogue (@vexil/shared's OfrepErrorCode): the same codes, with the same
 * statuses, in the catalogue, in daemon/README.md's "OFREP errors" table and in
 * @openfeature/ofrep-core (the OFREP specification's list), each way round; and the real OFREP
 * server answers nothing outside it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCode as OpenFeatureErrorCode } from '@openfeature/core';
import { EvaluationFailureErrorCode } from '@openfeature/ofrep-core';
import { OFREP_ERROR_STATUS, OfrepErrorCode, isOfrepErrorCode } from '@vexil/shared';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOfrepServer } from '../src/servers/ofrep/ofrep-server.js';
import { failureStatus } from '../src/servers/ofrep/responses.js';
import type { RunningServer } from '../src/servers/http/listen.js';
import { FlagStore } from '../src/store/flag-store.js';
import { createMetrics } from '../src/telemetry/metrics.js';

/** `code → status` of the rows of the README's "OFREP errors" table. */
function documentedCodes(): Map<string, number> {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const start = readme.indexOf('\n## OFREP errors\n');
  expect(start, 'daemon/README.md has an "## OFREP errors" section').toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const rows = new Map<string, number>();
  for (const m of section.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) rows.set(m[1], Number(m[2]));
  return rows;
}

describe('OFREP error catalogue', () => {
  it('documents every code with its status in daemon/README.md, and documents no other', () => {
    const documented = documentedCodes();
    for (const code of Object.values(OfrepErrorCode)) expect(documented.get(code), code).toBe(OFREP_ERROR_STATUS[code]);
    expect([...documented.keys()].sort()).toEqual(Object.values(OfrepErrorCode).sort());
  });

  it("holds exactly the OFREP specification's codes (@openfeature/ofrep-core), with FLAG_NOT_FOUND alone on 404", () => {
    expect(Object.values(OfrepErrorCode).sort()).toEqual(Object.values(EvaluationFailureErrorCode).sort());
    expect(Object.keys(OFREP_ERROR_STATUS).sort()).toEqual(Object.values(OfrepErrorCode).sort());
    for (const code of Object.values(OfrepErrorCode)) expect(OFREP_ERROR_STATUS[code], code).toBe(code === 'FLAG_NOT_FOUND' ? 404 : 400);
    expect(Object.isFrozen(OFREP_ERROR_STATUS)).toBe(true);
  });

  it('maps every OpenFeature error code into the catalogue: its own if OFREP has it, else GENERAL', () => {
    for (const code of [...Object.values(OpenFeatureErrorCode), 'FLAG_DISABLED', 'SOMETHING_NEW', '', 'toString', '__proto__']) {
      const mapped = failureStatus(code);
      expect(isOfrepErrorCode(mapped.errorCode), code).toBe(true);
      expect(mapped.errorCode, code).toBe(isOfrepErrorCode(code) ? code : 'GENERAL');
      expect(mapped.status, code).toBe(OFREP_ERROR_STATUS[mapped.errorCode]);
    }
    expect(isOfrepErrorCode('TYPE_MISMATCH')).toBe(false);
    expect(isOfrepErrorCode(404)).toBe(false);
  });
});

describe('OFREP server answers', () => {
  const SOURCE = 'file:catalogue';
  let server: RunningServer;
  let base: string;

  beforeAll(async () => {
    const store = new FlagStore([SOURCE]);
    const loaded = store.update(
      SOURCE,
      JSON.stringify({
        flags: {
          ok: { state: 'ENABLED', variants: { on: true }, defaultVariant: 'on' },
          off: { state: 'DISABLED', variants: { on: true }, defaultVariant: 'on' },
          unparsable: { state: 'ENABLED', variants: { a: true }, defaultVariant: 'a', targeting: { nosuchop: [1] } },
          'missing-variant': { state: 'ENABLED', variants: { a: true }, defaultVariant: 'a', targeting: { if: [true, 'nope', null] } },
        },
      }),
    );
    if (!loaded.ok) throw new Error(loaded.error.message);
    server = createOfrepServer({
      store,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: pino({ level: 'silent' }),
      host: '127.0.0.1',
      port: 0,
      contextValues: {},
      contextFromHeaders: {},
      corsOrigins: [],
    });
    base = `http://127.0.0.1:${(await server.start()).port}`;
  });
  afterAll(async () => {
    await server.close();
  });

  const post = (path: string, body: string) => fetch(`${base}/ofrep/v1/evaluate/flags${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it.each([
    ['an unknown flag', '/nope', '{}', 'FLAG_NOT_FOUND'],
    ['a disabled flag', '/off', '{}', 'FLAG_NOT_FOUND'],
    ['targeting that does not compile', '/unparsable', '{}', 'PARSE_ERROR'],
    ['targeting that picks no variant', '/missing-variant', '{}', 'GENERAL'],
    ['a body that is not JSON', '/ok', '{not json', 'INVALID_CONTEXT'],
    ['a context that is not an object', '/ok', '{"context":[1]}', 'INVALID_CONTEXT'],
    ['bulk: a context that is not an object', '', '{"context":"abc"}', 'INVALID_CONTEXT'],
  ])('answers %s with %s and the status the catalogue gives it', async (_what, path, body, code) => {
    const res = await post(path, body);
    const json = (await res.json()) as { errorCode: string; errorDetails: unknown };
    expect(json.errorCode).toBe(code);
    expect(res.status).toBe(OFREP_ERROR_STATUS[code as OfrepErrorCode]);
    expect(typeof json.errorDetails).toBe('string');
  });

  it('reports per-flag failures in bulk with catalogue codes only', async () => {
    const res = await post('', '{}');
    expect(res.status).toBe(200);
    const { flags } = (await res.json()) as { flags: { key: string; errorCode?: string }[] };
    const failed = flags.filter((f) => f.errorCode !== undefined);
    expect(failed.map((f) => [f.key, f.errorCode]).sort()).toEqual([
      ['missing-variant', 'GENERAL'],
      ['unparsable', 'PARSE_ERROR'],
    ]);
  });
});
