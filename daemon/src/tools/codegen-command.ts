/**
 * `vexil codegen --lang ts [--client server|web] [--out file] [--check] <file | URL>`: see
 * codegen.ts. The source is a flagd document or an OpenFeature CLI manifest (JSON or YAML file,
 * or an http(s) URL), or a running daemon's management API (`--daemon http://127.0.0.1:8014`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { CommandIo } from '../admin/commands.js';
import { CodegenError, flagSpecs, generateTs } from './codegen.js';

export const CODEGEN_HELP = [
  'Generate typed flag accessors for application code.',
  '',
  'Usage:',
  '  vexil codegen --lang ts [--client server|web] [--out file] [--check] <flags.json | flags.yaml | https://…>',
  '  vexil codegen --lang ts --daemon http://127.0.0.1:8014 [--token T] ...',
  '',
  'Flags:',
  '  --lang ts               The language (TypeScript)',
  '  --client server|web     The OpenFeature client the accessors take (default server)',
  '  --out <file>            Write here (default: standard output)',
  '  --check                 Do not write: exit 1 if <file> differs from what would be generated (for CI)',
  '  --daemon <url>          Read the flags from a running daemon\'s management API',
  '  --token <token>         Bearer token for --daemon (env VEXIL_ADMIN_TOKEN)',
  '',
].join('\n');

async function fetchJson(io: CommandIo, url: string, token: string | undefined): Promise<unknown> {
  const res = await (io.fetch ?? fetch)(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  if (!res.ok) throw new CodegenError(url, `HTTP ${res.status}: ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CodegenError(url, `not JSON: ${(err as Error).message}`);
  }
}

/** The flags of a running daemon: every page of GET /api/v1/flags (flagd's array form, keys included). */
async function fromDaemon(io: CommandIo, base: string, token: string | undefined): Promise<unknown> {
  const flags: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = (await fetchJson(io, `${base}/api/v1/flags${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`, token)) as { flags: unknown[]; nextCursor?: string };
    flags.push(...page.flags);
    cursor = page.nextCursor;
  } while (cursor);
  return { flags };
}

async function load(io: CommandIo, source: string): Promise<unknown> {
  if (/^https?:\/\//.test(source)) return fetchJson(io, source, undefined);
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (err) {
    throw new CodegenError(source, `cannot read: ${(err as Error).message}`);
  }
  try {
    return ['.yaml', '.yml'].includes(extname(source)) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new CodegenError(source, `not ${['.yaml', '.yml'].includes(extname(source)) ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
}

export async function codegenCommand(args: readonly string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        lang: { type: 'string' },
        client: { type: 'string' },
        out: { type: 'string' },
        check: { type: 'boolean' },
        daemon: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.err(`vexil codegen: ${(err as Error).message}\n`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    io.out(CODEGEN_HELP);
    return 0;
  }
  const bad = (m: string) => {
    io.err(`vexil codegen: ${m}\n`);
    return 2;
  };
  if (v.lang !== 'ts') return bad(`--lang ${v.lang === undefined ? 'is required' : `${JSON.stringify(v.lang)} is not supported`} (ts)`);
  const client = v.client ?? 'server';
  if (client !== 'server' && client !== 'web') return bad(`--client must be server or web, not ${JSON.stringify(client)}`);
  if (v.check && v.out === undefined) return bad('--check needs --out <file> to compare with');
  const source = v.daemon ?? parsed.positionals[0];
  if (source === undefined || parsed.positionals.length > (v.daemon ? 0 : 1)) return bad('expected one flag source (a file or URL), or --daemon <url>');

  let code: string;
  try {
    const doc = v.daemon ? await fromDaemon(io, v.daemon.replace(/\/+$/, ''), v.token ?? io.env['VEXIL_ADMIN_TOKEN']) : await load(io, source);
    const { flags, skipped } = flagSpecs(doc);
    for (const s of skipped) io.err(`vexil codegen: skipped ${s}\n`);
    code = generateTs(flags, { client, source: v.daemon ? `the daemon at ${v.daemon}` : source });
  } catch (err) {
    io.err(`vexil codegen: ${(err as Error).message}\n`);
    return 1;
  }
  if (v.check) {
    const current = await readFile(v.out!, 'utf8').catch(() => undefined);
    if (current === code) {
      io.out(`${v.out} is up to date\n`);
      return 0;
    }
    io.err(`vexil codegen: ${v.out} is ${current === undefined ? 'missing' : 'stale'}; run vexil codegen again without --check\n`);
    return 1;
  }
  if (v.out === undefined) io.out(code);
  else await writeFile(v.out, code);
  return 0;
}
