/**
 * `vexil explain <key>`: a flag's high-level plan (a rollout's steps, its state, which step is in
 * force now, whether the compiled rule still matches its checksum) next to the compiled flagd
 * JSON the SDKs evaluate, read through a running daemon's management API.
 */
import { handEdited, percentAt, ROLLOUT_META, storedPlan } from '../rollouts/plan.js';
import { parseClientArgs, type CommandIo } from './commands.js';

export const EXPLAIN_HELP = [
  "Show a flag's plan (a progressive rollout's steps and state) next to the compiled flagd JSON it evaluates as.",
  '',
  'Usage:',
  '  vexil explain <key> [--url http://127.0.0.1:8014] [--token T] [--now <unix seconds>]',
  '',
  'Flags:',
  '  --url <url>      The management port (default http://127.0.0.1:8014)',
  '  --token <token>  A bearer token with the viewer role (env VEXIL_ADMIN_TOKEN); not needed on loopback without tokens',
  '  --now <seconds>  The time to explain the plan at (default: now)',
  '',
].join('\n');

/** The plan as lines: what the rollout does, step by step, and where `now` falls. */
export function planLines(key: string, flag: Record<string, unknown>, now: number): string[] {
  const plan = storedPlan(flag);
  if (plan === undefined) return [`flag ${key}: no rollout plan`, `state ${String(flag['state'])}, default variant ${JSON.stringify(flag['defaultVariant'] ?? null)}`];
  const meta = (flag['metadata'] ?? {}) as Record<string, unknown>;
  const state = String(meta[ROLLOUT_META.state] ?? 'running');
  const lines = [`flag ${key}: progressive rollout, ${state}`, `"${plan.on}" to a growing share, "${plan.off}" to the rest`];
  const current = plan.steps.reduce((at, s, i) => (s.at <= now ? i : at), -1);
  plan.steps.forEach((s, i) => {
    const when = new Date(s.at * 1000).toISOString().replace('.000Z', 'Z');
    lines.push(`${i === current ? '→' : ' '} step ${String(i + 1).padStart(2)}  ${when}  ${String(s.percent).padStart(5)} %`);
  });
  const share = state === 'aborted' ? 0 : percentAt(plan, state === 'paused' ? Math.floor(Date.parse(String(meta[ROLLOUT_META.pausedAt])) / 1000) : now);
  lines.push(`now: ${share} % get "${plan.on}"${state === 'paused' ? ' (held since the pause)' : ''}`);
  lines.push(handEdited(flag) ? `checksum ${String(meta[ROLLOUT_META.hash])}: the targeting was EDITED BY HAND since it was compiled` : `checksum ${String(meta[ROLLOUT_META.hash])}: matches the targeting`);
  return lines;
}

/** Two columns: the plan on the left, the compiled JSON on the right. */
export function sideBySide(left: readonly string[], right: readonly string[]): string {
  const width = Math.max(...left.map((l) => l.length)) + 4;
  const rows = Math.max(left.length, right.length);
  const out: string[] = [];
  for (let i = 0; i < rows; i++) out.push(`${(left[i] ?? '').padEnd(width)}${right[i] ?? ''}`.trimEnd());
  return `${out.join('\n')}\n`;
}

export async function explainCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseClientArgs('explain', args, io, EXPLAIN_HELP, { now: { type: 'string' } });
  if (typeof parsed === 'number') return parsed;
  const { key, base, token } = parsed;
  const nowArg = parsed.values['now'] as string | undefined;
  const now = nowArg === undefined ? Math.floor(Date.now() / 1000) : Number(nowArg);
  if (!Number.isInteger(now) || now < 0) {
    io.err(`vexil explain: --now must be whole Unix seconds, not ${JSON.stringify(nowArg)}\n`);
    return 2;
  }
  let res: Response;
  try {
    res = await (io.fetch ?? fetch)(`${base}/api/v1/flags/${encodeURIComponent(key)}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (err) {
    io.err(`vexil explain: cannot reach ${base}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}\n`);
    return 1;
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown> & { error?: { code?: string; message?: string } };
  if (!res.ok) {
    io.err(`vexil explain: ${res.status} ${body.error?.code ?? ''}: ${body.error?.message ?? res.statusText}\n`);
    return 1;
  }
  const compiled = ['compiled targeting (flagd JSON):', ...JSON.stringify(body['targeting'] ?? null, null, 2).split('\n')];
  io.out(sideBySide(planLines(key, body, now), compiled));
  return 0;
}
