/**
 * `vexil codegen --lang ts`: typed accessors for a flag set, so application code gets a flag's key,
 * type and code default from one generated place instead of string literals. Reads flagd
 * documents directly (and the OpenFeature CLI's flag manifest), and writes deterministic output:
 * flags sorted by key, no timestamps, so `--check` in CI can compare byte for byte.
 */

export type FlagKind = 'boolean' | 'string' | 'number' | 'object';

/** One flag as the generator sees it, from either input format. */
export interface FlagSpec {
  key: string;
  kind: FlagKind;
  /** The value the accessor passes as the code default. */
  defaultValue: unknown;
  /** Every value the flag can take (flagd variants); empty when unknown (a manifest). */
  values: unknown[];
  description?: string;
  /** Whole numbers only (a manifest's `integer`, or every numeric variant whole). */
  integer?: boolean;
}

export class CodegenError extends Error {
  override readonly name = 'CodegenError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${message} (at ${path})`);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function kindOf(v: unknown): FlagKind | undefined {
  const t = typeof v;
  if (t === 'boolean' || t === 'string' || t === 'number') return t;
  return isRecord(v) ? 'object' : undefined;
}

const MANIFEST_KINDS: Record<string, FlagKind> = { boolean: 'boolean', string: 'string', integer: 'number', float: 'number', object: 'object' };

/**
 * The flags of a flagd document (`flags` as an object, or flagd's array form) or of an OpenFeature
 * CLI manifest (`flagType`, `defaultValue`). Flags that cannot be typed are reported, not guessed.
 */
export function flagSpecs(doc: unknown): { flags: FlagSpec[]; skipped: string[] } {
  if (!isRecord(doc)) throw new CodegenError('$', 'a flag document is a JSON object with "flags"');
  const raw = doc['flags'];
  let entries: [string, unknown][];
  if (Array.isArray(raw)) entries = raw.map((f, i) => [isRecord(f) && typeof f['key'] === 'string' ? f['key'] : `#${i}`, f]);
  else if (isRecord(raw)) entries = Object.entries(raw);
  else throw new CodegenError('$.flags', '"flags" must be an object keyed by flag key (or flagd\'s array form)');
  const flags: FlagSpec[] = [];
  const skipped: string[] = [];
  for (const [key, def] of entries) {
    if (!isRecord(def)) {
      skipped.push(`${key}: not an object`);
      continue;
    }
    const description = typeof def['description'] === 'string' ? def['description'] : isRecord(def['metadata']) && typeof def['metadata']['description'] === 'string' ? def['metadata']['description'] : undefined;
    if (typeof def['flagType'] === 'string') {
      const kind = MANIFEST_KINDS[def['flagType']];
      if (kind === undefined || kindOf(def['defaultValue']) !== kind) {
        skipped.push(`${key}: flagType ${JSON.stringify(def['flagType'])} with defaultValue ${JSON.stringify(def['defaultValue'])}`);
        continue;
      }
      flags.push({ key, kind, defaultValue: def['defaultValue'], values: [], description, integer: def['flagType'] === 'integer' });
      continue;
    }
    const variants = isRecord(def['variants']) ? def['variants'] : {};
    const values = Object.values(variants);
    const dv = typeof def['defaultVariant'] === 'string' && Object.hasOwn(variants, def['defaultVariant']) ? variants[def['defaultVariant']] : values[0];
    const kind = kindOf(dv);
    if (kind === undefined || values.some((v) => kindOf(v) !== kind)) {
      skipped.push(`${key}: variants of mixed or unusable types`);
      continue;
    }
    flags.push({ key, kind, defaultValue: dv, values, description, integer: kind === 'number' && values.every((v) => Number.isInteger(v)) });
  }
  flags.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { flags, skipped };
}

/** `new-checkout` → `NewCheckout`; what is left of a key after dropping what an identifier cannot hold. */
export function pascal(key: string): string {
  const words = key.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const name = words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  return /^[0-9]/.test(name) ? `Flag${name}` : name || 'Flag';
}

/** Accessor base names per key: `pascal`, with a numeric suffix where two keys would collide (in key order). */
export function accessorNames(keys: readonly string[]): Map<string, string> {
  const taken = new Map<string, number>();
  const out = new Map<string, string>();
  for (const key of [...keys].sort()) {
    const base = pascal(key);
    const n = taken.get(base) ?? 0;
    taken.set(base, n + 1);
    out.set(key, n === 0 ? base : `${base}${n + 1}`);
  }
  return out;
}

/** A TypeScript type for a JSON value, widened to its shape (strings stay literal in string flags only). */
function shapeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    const items = [...new Set(v.map(shapeOf))].sort();
    return items.length === 0 ? 'readonly unknown[]' : `readonly (${items.join(' | ')})[]`;
  }
  if (isRecord(v)) {
    const keys = Object.keys(v).sort();
    return keys.length === 0 ? 'Readonly<Record<string, unknown>>' : `{ ${keys.map((k) => `readonly ${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${shapeOf(v[k])}`).join('; ')} }`;
  }
  return typeof v;
}

function valueType(f: FlagSpec): string {
  switch (f.kind) {
    case 'boolean':
      return 'boolean';
    case 'string':
      // A string flag's answers are its variants: a union the compiler checks comparisons against.
      return f.values.length > 0 ? [...new Set(f.values.map((v) => JSON.stringify(v)))].sort().join(' | ') : 'string';
    case 'number':
      return 'number';
    default: {
      const shapes = [...new Set((f.values.length > 0 ? f.values : [f.defaultValue]).map(shapeOf))].sort();
      return shapes.join(' | ');
    }
  }
}

const METHOD: Record<FlagKind, string> = { boolean: 'Boolean', string: 'String', number: 'Number', object: 'Object' };

/** A JSDoc comment: the description, then the facts; `*\/` in text cannot end it. */
function doc(f: FlagSpec): string {
  const lines: string[] = [];
  if (f.description) lines.push(...f.description.split(/\r?\n/));
  const facts = [`Flag \`${f.key}\` (${f.kind}${f.integer && f.kind === 'number' ? ', whole numbers' : ''}); code default ${JSON.stringify(f.defaultValue)}.`];
  if (f.values.length > 0 && f.kind !== 'object') facts.push(`Values: ${f.values.map((v) => JSON.stringify(v)).join(', ')}.`);
  lines.push(...facts);
  return ['/**', ...lines.map((l) => ` * ${l.replace(/\*\//g, '*\\/')}`.trimEnd()), ' */'].join('\n');
}

export interface GenerateOptions {
  /** Which OpenFeature client the accessors take. */
  client: 'server' | 'web';
  /** Where the flags came from, for the header. */
  source: string;
}

/** The TypeScript module: a key union, the keys, and per flag a value type, a value accessor and a details accessor. */
export function generateTs(flags: readonly FlagSpec[], options: GenerateOptions): string {
  const names = accessorNames(flags.map((f) => f.key));
  const server = options.client === 'server';
  const sdk = server ? '@openfeature/server-sdk' : '@openfeature/web-sdk';
  // Only what the module uses: a caller's `noUnusedLocals` must not trip on generated code.
  const imports = ['Client', ...(server ? ['EvaluationContext'] : []), 'EvaluationDetails', ...(flags.some((f) => f.kind === 'object') ? ['JsonValue'] : [])];
  const out: string[] = [
    `// Generated by \`vexil codegen --lang ts${server ? '' : ' --client web'}\` from ${options.source.replace(/[\r\n]/g, ' ')}.`,
    '// Do not edit: run the command again (or with --check in CI) when the flags change.',
    '',
    ...(flags.length === 0 ? [] : [`import type { ${imports.join(', ')} } from '${sdk}';`, '']),
    '/** Every flag key in the flag set. */',
    `export type FlagKey = ${flags.length === 0 ? 'never' : flags.map((f) => JSON.stringify(f.key)).join(' | ')};`,
    '',
    `export const FLAG_KEYS: readonly FlagKey[] = [${flags.map((f) => JSON.stringify(f.key)).join(', ')}];`,
    '',
    '/** The accessor base name of each flag (`get<Name>`, `get<Name>Details`), for tools such as `vexil refs`. */',
    `export const FLAG_ACCESSORS: Readonly<Record<FlagKey, string>> = {${flags.map((f) => ` ${JSON.stringify(f.key)}: ${JSON.stringify(names.get(f.key))}`).join(',')}${flags.length ? ' ' : ''}};`,
  ];
  for (const f of flags) {
    const name = names.get(f.key)!;
    const type = valueType(f);
    const dflt = JSON.stringify(f.defaultValue);
    const m = METHOD[f.kind];
    const typeName = `${name}Value`;
    // Object flags go through JsonValue (the SDK's type), then narrow to the generated shape.
    const cast = f.kind === 'object' ? ` as unknown as ${typeName}` : f.kind === 'string' ? ` as ${typeName}` : '';
    const objDefault = f.kind === 'object' ? `${dflt} as JsonValue` : dflt;
    out.push('', doc(f), `export type ${typeName} = ${type};`, '');
    out.push(doc(f));
    if (server) {
      out.push(
        `export async function get${name}(client: Client, context?: EvaluationContext): Promise<${typeName}> {`,
        `  return (await client.get${m}Value(${JSON.stringify(f.key)}, ${objDefault}, context))${cast};`,
        '}',
        '',
        `/** \`${f.key}\` with its variant, reason and error details. */`,
        `export async function get${name}Details(client: Client, context?: EvaluationContext): Promise<EvaluationDetails<${typeName}>> {`,
        `  return (await client.get${m}Details(${JSON.stringify(f.key)}, ${objDefault}, context)) as unknown as EvaluationDetails<${typeName}>;`,
        '}',
      );
    } else {
      // The web SDK evaluates synchronously against the context set on OpenFeature.
      out.push(
        `export function get${name}(client: Client): ${typeName} {`,
        `  return client.get${m}Value(${JSON.stringify(f.key)}, ${objDefault})${cast};`,
        '}',
        '',
        `/** \`${f.key}\` with its variant, reason and error details. */`,
        `export function get${name}Details(client: Client): EvaluationDetails<${typeName}> {`,
        `  return client.get${m}Details(${JSON.stringify(f.key)}, ${objDefault}) as unknown as EvaluationDetails<${typeName}>;`,
        '}',
      );
    }
  }
  return `${out.join('\n')}\n`;
}
