/**
 * `vexil kill <key>` (the kill switch through a running daemon's management API) and
 * `vexil audit verify` (checks the audit log's hash chain). Both print one line; exit 0 on
 * success, 1 on failure, 2 on bad arguments.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;
import { defaultCheckpointPath, loadAuditKeysSync, verifyAuditLog, type AuditKeys } from './audit-log.js';

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
  "Check the management API's audit log: every entry's hash (HMAC under its key id, or plain sha256",
  'for unkeyed entries) and its link to the previous one; with a key file, also the signed checkpoint,',
  'which shows entries removed from the end.',
  '',
  'Usage:',
  '  vexil audit verify [--audit-log path] [--audit-key-file path] [--audit-checkpoint path]',
  '',
  'Flags:',
  '  --audit-log <path>         The audit log (env FLAGD_AUDIT_LOG; default ./vexil-audit.jsonl)',
  '  --audit-key-file <path>    The HMAC key file the daemon writes with, every key listed (env FLAGD_AUDIT_KEY_FILE)',
  '  --audit-checkpoint <path>  The checkpoint file (env FLAGD_AUDIT_CHECKPOINT; default <audit log>.checkpoint)',
  '',
].join('\n');

/**
 * Parses a subcommand's arguments with node:util's parseArgs (always with `--help`/`-h`); prints
 * the help or the problem itself and returns the exit code (0 after help, 2 for bad arguments)
 * when there is nothing to run. `bad` prints a usage problem and gives 2, for checks after parsing.
 */
export function parseCommand<O extends ParseArgsOptionsConfig>(
  name: string,
  args: readonly string[],
  io: CommandIo,
  help: string,
  options: O,
): { values: ParsedValues<O>; positionals: string[]; bad: (message: string) => number } | number {
  const bad = (message: string) => {
    io.err(`vexil ${name}: ${message}\n`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], allowPositionals: true, options: { ...options, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    return bad((err as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.out(help);
    return 0;
  }
  return { values: parsed.values as ParsedValues<O>, positionals: parsed.positionals, bad };
}

/** What parseArgs gives for options `O` (strings, booleans, or lists with `multiple`). */
export type ParsedValues<O extends ParseArgsOptionsConfig> = {
  [K in keyof O]?: O[K] extends { multiple: true } ? (O[K] extends { type: 'boolean' } ? boolean[] : string[]) : O[K] extends { type: 'boolean' } ? boolean : string;
};

/** A management API client command's arguments: one flag key, --url, --token, and `extra` options. */
export interface ClientArgs {
  key: string;
  base: string;
  token: string | undefined;
  values: Record<string, string | boolean | undefined>;
}

/**
 * Parses `vexil <name> <key> [--url] [--token] ...`; prints help or the problem itself and returns
 * the exit code (0 after help, 2 for bad arguments) instead of arguments when there is nothing to run.
 */
export function parseClientArgs(name: string, args: readonly string[], io: CommandIo, help: string, extra: Record<string, { type: 'string' }> = {}): ClientArgs | number {
  const parsed = parseCommand(name, args, io, help, { url: { type: 'string' }, token: { type: 'string' }, ...extra });
  if (typeof parsed === 'number') return parsed;
  if (parsed.positionals.length !== 1) return parsed.bad(`expected one flag key (vexil ${name} <key> [--url URL] [--token T])`);
  const values = parsed.values as Record<string, string | boolean | undefined>;
  return {
    key: parsed.positionals[0],
    base: String(values['url'] ?? 'http://127.0.0.1:8014').replace(/\/+$/, ''),
    token: (values['token'] as string | undefined) ?? io.env['VEXIL_ADMIN_TOKEN'],
    values,
  };
}

export async function killCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseClientArgs('kill', args, io, KILL_HELP);
  if (typeof parsed === 'number') return parsed;
  const { key, base, token } = parsed;
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
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { 'audit-log': { type: 'string' }, 'audit-key-file': { type: 'string' }, 'audit-checkpoint': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
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
  const keyFile = parsed.values['audit-key-file'] ?? (io.env['FLAGD_AUDIT_KEY_FILE'] || undefined);
  const checkpointPath = parsed.values['audit-checkpoint'] ?? (io.env['FLAGD_AUDIT_CHECKPOINT'] || defaultCheckpointPath(path));
  let keys: AuditKeys | undefined;
  if (keyFile !== undefined) {
    try {
      keys = loadAuditKeysSync(keyFile);
    } catch (err) {
      io.err(`vexil audit verify: ${(err as Error).message}\n`);
      return 1;
    }
  }
  let result;
  try {
    result = await verifyAuditLog(path, { ...(keys ? { keys } : {}), checkpointPath });
  } catch (err) {
    io.err(`vexil audit verify: cannot read ${path}: ${(err as Error).message}\n`);
    return 1;
  }
  if (result.ok) {
    const parts = [`${result.keyed} keyed`];
    if (result.unkeyed > 0) parts.push(`${result.unkeyed} unkeyed (plain sha256: anyone who can write the log could have rewritten them)`);
    const checkpoint = result.checkpointSeq !== undefined ? `; checkpoint at seq ${result.checkpointSeq} matches` : keys ? '' : '; no key file given: no checkpoint checked';
    io.out(`${path}: ${result.entries} entries, chain intact (${parts.join(', ')})${checkpoint}\n`);
    return 0;
  }
  io.err(`${path}: chain broken at line ${result.line}${result.seq !== undefined ? ` (seq ${result.seq})` : ''}: ${result.reason} (${result.entries} entries before it intact)\n`);
  return 1;
}
