/**
 * Connect unary calls answered on the raw HTTP/2 stream (connect-unary-h2.ts) answer what
 * connect-node answers for the same call: the same status, content type, CORS headers and bytes.
 * connect-node still serves HTTP/1.1, so each call is made both ways and compared.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { evaluationV1, evaluationV2 } from '@vexil/proto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonProcess } from './support/daemon-process.js';

let dir: string;
let d: DaemonProcess;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vexil-connect-h2-'));
  const file = join(dir, 'flags.json');
  writeFileSync(
    file,
    JSON.stringify({
      metadata: { flagSetId: 'shop' },
      flags: {
        banner: { state: 'ENABLED', variants: { a: 'hello', b: 'other' }, defaultVariant: 'a' },
        'new-checkout': {
          state: 'ENABLED',
          variants: { on: true, off: false },
          defaultVariant: 'off',
          targeting: { if: [{ ends_with: [{ var: 'email' }, '@vexil.dev'] }, 'on', null] },
        },
        count: { state: 'ENABLED', variants: { n: 7 }, defaultVariant: 'n' },
      },
    }),
  );
  d = await startDaemon(['-f', `file:${file}`]);
});
afterAll(async () => {
  await d?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  type: string | undefined;
  cors: (string | undefined)[];
  body: string;
}

function overH2(path: string, headers: Record<string, string>, body: Uint8Array): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://127.0.0.1:${d.ports.evaluation}`);
    session.once('error', reject);
    // A declared length, as fetch-based Connect clients send it: the fast path needs one.
    const req = session.request({ ':method': 'POST', ':path': path, 'content-length': String(body.length), ...headers });
    const chunks: Buffer[] = [];
    let head: Record<string, unknown> = {};
    req.once('response', (h) => (head = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => {
      session.close();
      const h = (n: string) => head[n] as string | undefined;
      resolve({ status: Number(head[':status']), type: h('content-type'), cors: [h('access-control-allow-origin'), h('vary'), h('access-control-expose-headers')], body: Buffer.concat(chunks).toString('base64') });
    });
    req.once('error', reject);
    req.end(body);
  });
}

async function overHttp1(path: string, headers: Record<string, string>, body: Uint8Array): Promise<Answer> {
  const r = await fetch(`http://127.0.0.1:${d.ports.evaluation}${path}`, { method: 'POST', headers, body });
  const h = (n: string) => r.headers.get(n) ?? undefined;
  return { status: r.status, type: h('content-type'), cors: [h('access-control-allow-origin'), h('vary'), h('access-control-expose-headers')], body: Buffer.from(await r.arrayBuffer()).toString('base64') };
}

const request = (schema: typeof evaluationV1 | typeof evaluationV2, init: { flagKey: string; context?: object }) =>
  toBinary(schema.ResolveBooleanRequestSchema, create(schema.ResolveBooleanRequestSchema, init as never));

describe('Connect unary over HTTP/2', () => {
  const proto = { 'content-type': 'application/proto' };
  const cases: [string, string, Record<string, string>, Uint8Array][] = [
    ['static string, v1', '/flagd.evaluation.v1.Service/ResolveString', proto, request(evaluationV1, { flagKey: 'banner' })],
    ['static string, v2', '/flagd.evaluation.v2.Service/ResolveString', proto, request(evaluationV2, { flagKey: 'banner' })],
    ['targeting match', '/flagd.evaluation.v2.Service/ResolveBoolean', proto, request(evaluationV2, { flagKey: 'new-checkout', context: { email: 'a@vexil.dev' } })],
    ['targeting null: the default', '/flagd.evaluation.v2.Service/ResolveBoolean', proto, request(evaluationV2, { flagKey: 'new-checkout', context: { email: 'a@b.c' } })],
    ['the same flag as int and float', '/flagd.evaluation.v2.Service/ResolveInt', proto, request(evaluationV2, { flagKey: 'count' })],
    ['the same flag as float', '/flagd.evaluation.v2.Service/ResolveFloat', proto, request(evaluationV2, { flagKey: 'count' })],
    ['not found', '/flagd.evaluation.v2.Service/ResolveBoolean', proto, request(evaluationV2, { flagKey: 'missing' })],
    ['type mismatch', '/flagd.evaluation.v1.Service/ResolveBoolean', proto, request(evaluationV1, { flagKey: 'banner' })],
    ['malformed body', '/flagd.evaluation.v2.Service/ResolveBoolean', proto, Uint8Array.from([0xff, 0xff, 0xff])],
    ['with an Origin (CORS)', '/flagd.evaluation.v2.Service/ResolveString', { ...proto, origin: 'https://app.example' }, request(evaluationV2, { flagKey: 'banner' })],
    ['protocol version 1', '/flagd.evaluation.v2.Service/ResolveString', { ...proto, 'connect-protocol-version': '1' }, request(evaluationV2, { flagKey: 'banner' })],
  ];
  it.each(cases)('%s: as connect-node answers it', async (_name, path, headers, body) => {
    const h2 = await overH2(path, headers, body);
    expect(h2).toEqual(await overHttp1(path, headers, body));
  });

  it('answers a different context differently on the same connection kind (nothing kept across contexts)', async () => {
    const path = '/flagd.evaluation.v2.Service/ResolveBoolean';
    const on = await overH2(path, proto, request(evaluationV2, { flagKey: 'new-checkout', context: { email: 'a@vexil.dev' } }));
    const off = await overH2(path, proto, request(evaluationV2, { flagKey: 'new-checkout', context: { email: 'a@b.c' } }));
    expect(on.body).not.toBe(off.body);
  });
});
