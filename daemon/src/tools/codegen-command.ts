/**
 * `vexil codegen --lang ts [--client server|web] [--out file] [--check] <file | URL>`: see
 * codegen.ts. The source is a flagd document or an OpenFeature CLI manifest (JSON or YAML file,
 * or an http(s) URL), or a running daemon's management API (`--daemon http://127.0.0.1:8014`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseCommand, type CommandIo } from '../admin/commands.js';
import { flagSpecs, generateTs } from './codegen.js';
import { fromDaemon, loadFlagDocument } from './flag-source.js';

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

export async function codegenCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseCommand('codegen', args, io, CODEGEN_HELP, {
    lang: { type: 'string' },
    client: { type: 'string' },
    out: { type: 'string' },
    check: { type: 'boolean' },
    daemon: { type: 'string' },
    token: { type: 'string' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values: v, bad } = parsed;
  if (v.lang !== 'ts') return bad(`--lang ${v.lang === undefined ? 'is required' : `${JSON.stringify(v.lang)} is not supported`} (ts)`);
  const client = v.client ?? 'server';
  if (client !== 'server' && client !== 'web') return bad(`--client must be server or web, not ${JSON.stringify(client)}`);
  if (v.check && v.out === undefined) return bad('--check needs --out <file> to compare with');
  const source = v.daemon ?? parsed.positionals[0];
  if (source === undefined || parsed.positionals.length > (v.daemon ? 0 : 1)) return bad('expected one flag source (a file or URL), or --daemon <url>');

  let code: string;
  try {
    const doc = v.daemon ? await fromDaemon(io, v.daemon.replace(/\/+$/, ''), v.token ?? io.env['VEXIL_ADMIN_TOKEN']) : await loadFlagDocument(io, source);
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
