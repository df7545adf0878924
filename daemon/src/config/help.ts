/**
 * `vexil --help` and `vexil start --help`, generated from the option table so every flag appears
 * with its environment variable and default.
 */
import { OPTIONS, type OptionSpec } from './options.js';

const WIDTH = 100;
/** Where descriptions start; longer flag columns put the description on the next line. */
const COLUMN = 38;

export type HelpTopic = 'root' | 'start' | 'version';

/** The help text for `vexil` (default), `vexil start` or `vexil version`. Ends with a newline. */
export function formatHelp(topic: HelpTopic = 'root'): string {
  switch (topic) {
    case 'root':
      return rootHelp();
    case 'start':
      return startHelp();
    case 'version':
      return ['Print the version of vexil.', '', 'Usage:', '  vexil version', ''].join('\n');
  }
}

/** What `vexil version` / `vexil --version` print. */
export function formatVersion(version: string): string {
  return `vexil ${version}\n`;
}

function rootHelp(): string {
  return [
    'Vexil is a flagd-compatible feature-flag daemon: it reads flag definitions from files, HTTP,',
    "gRPC or S3 and serves evaluation (gRPC, Connect, gRPC-web, OFREP) and flagd's sync protocol.",
    '',
    'Usage:',
    '  vexil <command> [flags]',
    '',
    'Commands:',
    '  start     Start the daemon',
    '  kill      Kill switch: turn a flag off through a running daemon (vexil kill <key> --help)',
    '  audit     vexil audit verify: check the audit log\'s hash chain',
    '  explain   A flag\'s rollout plan next to its compiled flagd JSON (vexil explain <key> --help)',
    '  codegen   Typed flag accessors for application code (vexil codegen --help)',
    '  refs      Flag keys a code tree uses; unreferenced and unknown flags (vexil refs --help)',
    '  version   Print the version',
    '  help      Help about a command (vexil help start)',
    '',
    'Flags:',
    ...optionLines(OPTIONS.filter((o) => o.scope === 'root'), rootExtras),
    '',
    'Without a command, vexil prints this help. Use "vexil start --help" for the daemon\'s flags.',
    '',
  ].join('\n');
}

function startHelp(): string {
  const start = OPTIONS.filter((o) => o.scope === 'start' && !o.ignored);
  const ignored = OPTIONS.filter((o) => o.scope === 'start' && o.ignored);
  return [
    'Start the daemon: load the flag sources and serve evaluation, OFREP, sync and management.',
    '',
    'Usage:',
    '  vexil start [flags]',
    '',
    'Flags:',
    ...optionLines(start, startExtras),
    '',
    'Global flags:',
    ...optionLines(OPTIONS.filter((o) => o.scope === 'root'), []),
    '',
    'flagd flags accepted for compatibility but ignored by vexil (reported as warnings):',
    ...optionLines(ignored, []),
    '',
    ...wrap(
      'Precedence: command-line flags, then FLAGD_* environment variables, then the --config file, then ' +
        'the defaults. In a config file the keys are the long flag names (port, management-port, uri, ' +
        'sources, cors-origin, context-value, ...); lists are YAML lists and key=value flags are mappings. ' +
        'S3 sources take credentials, region and endpoint from the AWS SDK as usual (AWS_REGION, ' +
        'AWS_ENDPOINT_URL_S3, AWS_PROFILE, ...) unless a source sets region or endpoint.',
      0,
    ),
    '',
  ].join('\n');
}

interface Extra {
  readonly flags: string;
  readonly help: string;
}

const rootExtras: readonly Extra[] = [
  { flags: '-h, --help', help: 'Help for vexil.' },
  { flags: '    --version', help: 'Print the version.' },
];
const startExtras: readonly Extra[] = [{ flags: '-h, --help', help: 'Help for start.' }];

function flagsColumn(spec: OptionSpec): string {
  const names = spec.short ? `-${spec.short}, --${spec.name}` : `    --${spec.name}`;
  return spec.arg ? `${names} <${spec.arg}>` : names;
}

function describe(spec: OptionSpec): string {
  const notes: string[] = [];
  if (spec.env) notes.push(`env ${spec.env}`);
  else if (spec.noEnvReason) notes.push(spec.noEnvReason);
  if (spec.defaultText !== undefined) notes.push(`default ${spec.defaultText}`);
  return notes.length > 0 ? `${spec.help} (${notes.join('; ')})` : spec.help;
}

function optionLines(specs: readonly OptionSpec[], extras: readonly Extra[]): string[] {
  const rows: Extra[] = [...specs.map((s) => ({ flags: flagsColumn(s), help: describe(s) })), ...extras];
  const column = COLUMN;
  const lines: string[] = [];
  for (const row of rows) {
    const head = `  ${row.flags}`;
    const body = wrap(row.help, column);
    if (head.length + 2 <= column) {
      lines.push(head.padEnd(column) + body[0].trimStart(), ...body.slice(1));
    } else {
      lines.push(head, ...body);
    }
  }
  return lines;
}

/** Word-wraps `text` to WIDTH columns, every line indented by `indent` spaces. */
function wrap(text: string, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && indent + line.length + 1 + word.length > WIDTH) {
      lines.push(pad + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(pad + line);
  return lines;
}
