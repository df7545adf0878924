/**
 * `vexil kill <key>` (the kill switch through a running daemon's management API) and
 * `vexil audit verify` (checks the audit log's hash chain). Both print one line; exit 0 on
 * success, 1 on failure, 2 on bad arguments.
 */
import { parseArgs } from 'node:util';
import { verifyAuditLog } from './audit-log.js';

export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
}

export const KILL_HELP = [
  'Turn a flag off everywhere: POST /api/v1/flags/<key>/kill on a running daemon (state DISABLED; SDKs then serve their coded default).',
  '',
  'Usage:',
  '  vexil kill <key> [--url http://127.0.0.1:8014] [--token T]',
  '',
  'Flags:',
  '  --url <url>      The management port (default http://127.0.0.1:8014)',
  '  --token <token>  A bearer token with the editor role (env VEXIL_ADMIN_TOKEN); not needed on loopback without tokens',
  '',
].join('\n');

export const AUDIT_HELP = [
  "Check the management API's audit log: every entry's hash and its link to the previous one.",
  '',
  'Usage:',
  '  vexil audit verify [--audit-log path]',
  '',
  'Flags:',
  '  --audit-log <path>  The audit log (env FLAGD_AUDIT_LOG; default ./vexil-audit.jsonl)',
  '',
].join('\n');

export async function killCommand(args: readonly string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], allowPositionals: true, options: { url: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    io.err(`vexil kill: ${(err as Error).message}\n`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(KILL_HELP);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    io.err('vexil kill: expected one flag key (vexil kill <key> [--url URL] [--token T])\n');
    return 2;
  }
  const key = parsed.positionals[0];
  const base = (parsed.values.url ?? 'http://127.0.0.1:8014').replace(/\/+$/, '');
  const token = parsed.values.token ?? io.env['VEXIL_ADMIN_TOKEN'];
  const url = `${base}/api/v1/flags/${encodeURIComponent(key)}/kill`;
  let res: Response;
  try {
    res = await (io.fetch ?? fetch)(url, { method: 'POST', headers: { 'x-vexil-request': 'vexil-cli', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  } catch (err) {
    io.err(`vexil kill: cannot reach ${base}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}\n`);
    return 1;
  }
  const body = (await res.json().catch(() => ({}))) as { version?: string; error?: { code?: string; message?: string } };
  if (!res.ok) {
    io.err(`vexil kill: ${res.status} ${body.error?.code ?? ''}: ${body.error?.message ?? res.statusText}\n`);
    return 1;
  }
  io.out(`killed ${key}: state DISABLED, version ${body.version ?? res.headers.get('etag') ?? '?'}\n`);
  return 0;
}

export async function auditCommand(args: readonly string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], allowPositionals: true, options: { 'audit-log': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    io.err(`vexil audit: ${(err as Error).message}\n`);
    return 2;
  }
  if (parsed.values.help || parsed.positionals.length === 0) {
    io.out(AUDIT_HELP);
    return parsed.values.help ? 0 : 2;
  }
  if (parsed.positionals.length !== 1 || parsed.positionals[0] !== 'verify') {
    io.err(`vexil audit: unknown subcommand ${JSON.stringify(parsed.positionals.join(' '))}: expected verify\n`);
    return 2;
  }
  const path = parsed.values['audit-log'] ?? (io.env['FLAGD_AUDIT_LOG'] || 'vexil-audit.jsonl');
  let result;
  try {
    result = await verifyAuditLog(path);
  } catch (err) {
    io.err(`vexil audit verify: cannot read ${path}: ${(err as Error).message}\n`);
    return 1;
  }
  if (result.ok) {
    io.out(`${path}: ${result.entries} entries, chain intact\n`);
    return 0;
  }
  io.err(`${path}: chain broken at line ${result.line}: ${result.reason} (${result.entries} entries before it intact)\n`);
  return 1;
}
