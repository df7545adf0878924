/**
 * `vexil refs <dir>`: see refs.ts. With the flag set (`--flags <file|URL>` or `--daemon <url>`)
 * it also reports flags no code references and references to flags that do not exist;
 * `--upload` sends the report to the daemon (`POST /api/v1/refs`), whose stale report then says
 * which flags are not referenced in code, as a CI job would keep it current.
 */
import { parseCommand, type CommandIo } from '../admin/commands.js';
import { flagSpecs } from './codegen.js';
import { fromDaemon, loadFlagDocument } from './flag-source.js';
import { scanRefs } from './refs.js';

export const REFS_HELP = [
  'Find the flag keys a code tree uses.',
  '',
  'Usage:',
  '  vexil refs <dir> [--flags <file|URL> | --daemon <url>] [--pattern <regex>]... [--json] [--strict] [--upload]',
  '',
  'Flags:',
  '  --flags <file|URL>   The flag set (flagd document or OpenFeature CLI manifest): report unreferenced and unknown flags',
  "  --daemon <url>       Read the flag set from a running daemon's management API (and --upload to it)",
  '  --token <token>      Bearer token for --daemon (env VEXIL_ADMIN_TOKEN; --upload needs the editor role)',
  '  --pattern <regex>    Another way code names a flag: a regular expression whose one capture group is the key (repeatable)',
  '  --json               Print the report as JSON',
  '  --strict             Exit 1 when code references a flag that does not exist',
  '  --upload             POST the report to the daemon (needs --daemon)',
  '',
].join('\n');

export async function refsCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseCommand('refs', args, io, REFS_HELP, {
    flags: { type: 'string' },
    daemon: { type: 'string' },
    token: { type: 'string' },
    pattern: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    strict: { type: 'boolean' },
    upload: { type: 'boolean' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values: v, bad } = parsed;
  if (parsed.positionals.length !== 1) return bad('expected one directory (vexil refs <dir>)');
  if (v.upload && v.daemon === undefined) return bad('--upload needs --daemon <url>');
  if (v.flags !== undefined && v.daemon !== undefined) return bad('give --flags or --daemon, not both');
  const patterns: RegExp[] = [];
  for (const p of v.pattern ?? []) {
    let re: RegExp;
    try {
      re = new RegExp(p, 'g');
    } catch (err) {
      return bad(`--pattern ${JSON.stringify(p)}: ${(err as Error).message}`);
    }
    if (new RegExp(`${p}|`).exec('')!.length !== 2) return bad(`--pattern ${JSON.stringify(p)} must have exactly one capture group (the flag key)`);
    patterns.push(re);
  }
  const base = v.daemon?.replace(/\/+$/, '');
  const token = v.token ?? io.env['VEXIL_ADMIN_TOKEN'];
  try {
    const doc = base !== undefined ? await fromDaemon(io, base, token) : v.flags !== undefined ? await loadFlagDocument(io, v.flags) : undefined;
    // flagSpecs refuses what is not a flag document; the keys are every flag's, typed or not.
    if (doc !== undefined) flagSpecs(doc);
    const allKeys = doc === undefined ? undefined : documentKeys(doc);
    const report = await scanRefs(parsed.positionals[0], { keys: allKeys, patterns });
    if (v.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
    else {
      io.out(`${report.references.length} references to ${report.referenced.length} flags in ${report.files} files\n`);
      for (const r of report.unknown) io.out(`unknown flag ${JSON.stringify(r.key)} at ${r.file}:${r.line}\n`);
      if (allKeys) io.out(report.unreferenced.length === 0 ? 'every flag is referenced\n' : `not referenced in code: ${report.unreferenced.join(', ')}\n`);
    }
    if (v.upload) {
      const res = await (io.fetch ?? fetch)(`${base}/api/v1/refs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ root: report.root, generatedAt: report.generatedAt, referenced: report.referenced, unknown: report.unknown }),
      });
      if (!res.ok) {
        const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
        io.err(`vexil refs: upload: ${res.status} ${body.error?.code ?? ''}: ${body.error?.message ?? res.statusText}\n`);
        return 1;
      }
      if (!v.json) io.out(`uploaded to ${base}\n`);
    }
    return v.strict && report.unknown.length > 0 ? 1 : 0;
  } catch (err) {
    io.err(`vexil refs: ${(err as Error).message}\n`);
    return 1;
  }
}

function documentKeys(doc: unknown): string[] {
  const flags = (doc as { flags?: unknown }).flags;
  if (Array.isArray(flags)) return flags.map((f) => (f as { key?: unknown }).key).filter((k): k is string => typeof k === 'string');
  return flags !== null && typeof flags === 'object' ? Object.keys(flags) : [];
}
