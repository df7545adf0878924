/**
 * Turning a flagd flag set document into compiled flags. Structural errors that flagd (and
 * flagd-core) refuse throw FlagConfigError; what only flagd's JSON schema objects to becomes a
 * warning. Flags whose definition did not change keep their compiled form from the previous load.
 */
import { ConfigWarningCode, FlagConfigError, FlagConfigErrorCode, RuleError, pathKey, type ConfigIssue } from './errors.js';
import { deepFreeze, isPlainObject } from './json.js';
import { Compiler, type Fn } from './logic/compile.js';
import { flagdOperators } from './logic/flagd-operators.js';
import { Reason, type FlagMetadata, type FlagValueType, type JsonValue, type ResolutionDetails } from './types.js';

/** Details shared by every evaluation that reaches the same outcome; frozen, so sharing is safe. */
export type Outcome = Readonly<Omit<ResolutionDetails<JsonValue>, 'value'> & { value?: JsonValue }>;

export interface CompiledFlag {
  readonly key: string;
  readonly enabled: boolean;
  readonly variants: ReadonlyMap<string, JsonValue>;
  readonly defaultVariant: string | undefined;
  readonly metadata: Readonly<FlagMetadata>;
  /** The type of the default variant's value (else the first variant's); what resolveAll reports. */
  readonly valueType: FlagValueType | undefined;
  /** Compiled targeting, when the flag has any. */
  readonly rule: Fn | undefined;
  /** Set when targeting failed to compile: the flag resolves PARSE_ERROR. */
  readonly parseError: string | undefined;
  /** The answer when targeting is absent (STATIC; DEFAULT without a default variant). */
  readonly staticOutcome: Outcome;
  /** The answer when targeting returns null (DEFAULT). */
  readonly defaultOutcome: Outcome;
  /** TARGETING_MATCH answers by variant name. */
  readonly matchOutcomes: ReadonlyMap<string, Outcome>;
  /** The definition as loaded, `$ref`s inlined, frozen. */
  readonly definition: Readonly<Record<string, unknown>>;
  /** Equal fingerprints mean equal compiled flags. */
  readonly fingerprint: string;
  /** Warnings about this flag, with paths relative to the flag. */
  readonly issues: readonly ConfigIssue[];
}

export interface ParsedFlagSet {
  flags: Map<string, CompiledFlag>;
  metadata: Readonly<FlagMetadata>;
  warnings: ConfigIssue[];
}

function typeOfValue(v: unknown): FlagValueType | undefined {
  switch (typeof v) {
    case 'boolean':
    case 'string':
    case 'number':
      return typeof v as FlagValueType;
    case 'object':
      return 'object';
    default:
      return undefined;
  }
}

/** flagd-core treats any targeting with no own keys (`{}`, `[]`, numbers, booleans, "") as none. */
function hasTargeting(t: unknown): boolean {
  if (!t) return false;
  return Object.keys(t as object).length > 0;
}

const REF = '$ref';

/** Replaces `{"$ref": "name"}` with the named evaluator, recursively; a missing name is a RuleError. */
function inlineRefs(node: unknown, evaluators: Record<string, unknown>, path: string, seen: string[]): unknown {
  if (Array.isArray(node)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < node.length; i++) {
      const v = inlineRefs(node[i], evaluators, pathKey(path, i), seen);
      if (v !== node[i]) (copy ??= node.slice())[i] = v;
    }
    return copy ?? node;
  }
  if (!isPlainObject(node)) return node;
  const keys = Object.keys(node);
  if (keys.length === 1 && keys[0] === REF && typeof node[REF] === 'string') {
    const name = node[REF] as string;
    if (!Object.prototype.hasOwnProperty.call(evaluators, name)) {
      throw new RuleError(path, `"$ref" names the evaluator "${name}", which $evaluators does not define`);
    }
    if (seen.includes(name)) throw new RuleError(path, `evaluator "${name}" refers to itself through ${seen.join(' -> ')}`);
    return inlineRefs(evaluators[name], evaluators, pathKey('$.$evaluators', name), [...seen, name]);
  }
  let copy: Record<string, unknown> | undefined;
  for (const k of keys) {
    const v = inlineRefs(node[k], evaluators, pathKey(path, k), seen);
    if (v !== node[k]) (copy ??= Object.fromEntries(Object.entries(node)))[k] = v;
  }
  return copy ?? node;
}

function metadataIssues(meta: unknown, path: string, out: ConfigIssue[]): void {
  if (meta === undefined || meta === null) return;
  if (!isPlainObject(meta)) {
    out.push({ code: ConfigWarningCode.INVALID_METADATA, path, message: 'metadata must be an object' });
    return;
  }
  for (const k of Object.keys(meta)) {
    const t = typeof meta[k];
    if (t !== 'string' && t !== 'number' && t !== 'boolean') {
      out.push({ code: ConfigWarningCode.INVALID_METADATA, path: pathKey(path, k), message: 'metadata values must be strings, numbers or booleans' });
    }
  }
}

function freezeOutcome(o: Omit<ResolutionDetails<JsonValue>, 'value'> & { value: JsonValue | undefined }): Outcome {
  if (o.variant === undefined) delete o.variant;
  if (o.value === undefined) delete (o as { value?: unknown }).value;
  return Object.freeze(o);
}

export class FlagSetCompiler {
  private readonly compiler = new Compiler({ operators: flagdOperators() });

  /**
   * Parses a document already known to be JSON and within the depth limit. `previous` supplies
   * compiled flags to reuse when their fingerprint is unchanged.
   */
  parse(doc: unknown, previous: ReadonlyMap<string, CompiledFlag>): ParsedFlagSet {
    if (!isPlainObject(doc)) {
      throw new FlagConfigError(FlagConfigErrorCode.INVALID_CONFIG, '$', 'a flag set must be a JSON object with a "flags" member');
    }
    const warnings: ConfigIssue[] = [];

    const evaluatorsRaw = doc['$evaluators'];
    if (evaluatorsRaw !== undefined && evaluatorsRaw !== null && !isPlainObject(evaluatorsRaw)) {
      throw new FlagConfigError(FlagConfigErrorCode.INVALID_CONFIG, '$.$evaluators', '$evaluators must be an object of named rules');
    }
    const evaluators = (evaluatorsRaw ?? {}) as Record<string, unknown>;
    const evaluatorsText = evaluatorsRaw ? JSON.stringify(evaluatorsRaw) : '';

    const metaRaw = doc['metadata'];
    metadataIssues(metaRaw, '$.metadata', warnings);
    const setMeta = isPlainObject(metaRaw) ? metaRaw : {};
    const setMetaText = JSON.stringify(setMeta);
    const metadata = Object.freeze(Object.fromEntries(Object.entries(setMeta))) as Readonly<FlagMetadata>;

    // The flag list: a map by key (providers' format) or flagd's array of flags with `key`.
    const entries: [string, unknown, string][] = [];
    const flagsRaw = doc['flags'];
    if (flagsRaw === undefined || flagsRaw === null) {
      warnings.push({ code: ConfigWarningCode.MISSING_FLAGS, path: '$.flags', message: 'the flag set has no "flags"; it loads as empty' });
    } else if (Array.isArray(flagsRaw)) {
      const seen = new Set<string>();
      flagsRaw.forEach((f, i) => {
        const p = pathKey('$.flags', i);
        if (!isPlainObject(f) || typeof f['key'] !== 'string') {
          throw new FlagConfigError(FlagConfigErrorCode.INVALID_FLAG, p, 'each flag in a "flags" array must be an object with a string "key"');
        }
        const key = f['key'] as string;
        if (seen.has(key)) throw new FlagConfigError(FlagConfigErrorCode.DUPLICATE_FLAG_KEY, pathKey(p, 'key'), `flag key "${key}" appears twice`);
        seen.add(key);
        const rest = Object.fromEntries(Object.entries(f).filter(([k]) => k !== 'key'));
        entries.push([key, rest, p]);
      });
    } else if (isPlainObject(flagsRaw)) {
      for (const key of Object.keys(flagsRaw)) entries.push([key, flagsRaw[key], pathKey('$.flags', key)]);
    } else {
      throw new FlagConfigError(FlagConfigErrorCode.INVALID_CONFIG, '$.flags', '"flags" must be an object keyed by flag key');
    }

    const flags = new Map<string, CompiledFlag>();
    for (const [key, raw, path] of entries) {
      if (!isPlainObject(raw)) throw new FlagConfigError(FlagConfigErrorCode.INVALID_FLAG, path, `flag "${key}" must be an object`);
      const text = JSON.stringify(raw);
      // The fingerprint covers everything the compiled flag depends on: its own text, the set
      // metadata merged into it, and the evaluators when it may reference them.
      const fingerprint = `${text}\u0000${setMetaText}\u0000${text.includes('"$ref"') ? evaluatorsText : ''}`;
      const prev = previous.get(key);
      const flag = prev !== undefined && prev.fingerprint === fingerprint ? prev : this.compileFlag(key, raw, path, evaluators, setMeta, fingerprint);
      flags.set(key, flag);
      for (const issue of flag.issues) warnings.push({ ...issue, path: path + issue.path.slice(1) });
    }
    return { flags, metadata, warnings };
  }

  private compileFlag(
    key: string,
    raw: Record<string, unknown>,
    path: string,
    evaluators: Record<string, unknown>,
    setMeta: Record<string, unknown>,
    fingerprint: string,
  ): CompiledFlag {
    const issues: ConfigIssue[] = [];
    const state = raw['state'];
    if (state !== 'ENABLED' && state !== 'DISABLED') {
      throw new FlagConfigError(FlagConfigErrorCode.INVALID_STATE, pathKey(path, 'state'), `flag "${key}" has state ${JSON.stringify(state) ?? 'undefined'}; expected "ENABLED" or "DISABLED"`);
    }
    const variantsRaw = raw['variants'];
    if (!isPlainObject(variantsRaw)) {
      throw new FlagConfigError(FlagConfigErrorCode.INVALID_VARIANTS, pathKey(path, 'variants'), `flag "${key}" must have an object of variants`);
    }
    const variants = new Map<string, JsonValue>();
    const types = new Set<string>();
    for (const name of Object.keys(variantsRaw)) {
      const v = deepFreeze(variantsRaw[name]) as JsonValue;
      variants.set(name, v);
      if (v === null || Array.isArray(v)) {
        issues.push({ code: ConfigWarningCode.INVALID_VARIANT_VALUE, path: pathKey('$.variants', name), message: `variant "${name}" is ${v === null ? 'null' : 'an array'}; variants must be booleans, strings, numbers or objects` });
      } else {
        types.add(typeof v);
      }
    }
    if (key === '') issues.push({ code: ConfigWarningCode.EMPTY_FLAG_KEY, path: '$', message: 'flag keys must not be empty' });
    if (variants.size === 0) issues.push({ code: ConfigWarningCode.EMPTY_VARIANTS, path: '$.variants', message: `flag "${key}" has no variants` });
    if (types.size > 1) {
      issues.push({ code: ConfigWarningCode.MIXED_VARIANT_TYPES, path: '$.variants', message: `flag "${key}" mixes variant types (${[...types].sort().join(', ')}); all variants of a flag should share one type` });
    }

    // flagd-core reads `defaultVariant || undefined`: "", 0, false and null all mean "use the code default".
    const dvRaw = raw['defaultVariant'];
    if (dvRaw !== undefined && dvRaw !== null && typeof dvRaw !== 'string') {
      issues.push({ code: ConfigWarningCode.INVALID_DEFAULT_VARIANT, path: '$.defaultVariant', message: 'defaultVariant must be a string or null' });
    }
    let defaultVariant: string | undefined;
    if (dvRaw) {
      if (typeof dvRaw !== 'string' || !variants.has(dvRaw)) {
        throw new FlagConfigError(
          FlagConfigErrorCode.DEFAULT_VARIANT_NOT_FOUND,
          pathKey(path, 'defaultVariant'),
          `flag "${key}" has defaultVariant ${JSON.stringify(dvRaw)}, which is not one of its variants (${[...variants.keys()].map((k) => JSON.stringify(k)).join(', ')})`,
        );
      }
      defaultVariant = dvRaw;
    }

    metadataIssues(raw['metadata'], '$.metadata', issues);
    const flagMeta = isPlainObject(raw['metadata']) ? raw['metadata'] : {};
    // Flag metadata wins over flag set metadata.
    const metadata = Object.freeze(Object.fromEntries([...Object.entries(setMeta), ...Object.entries(flagMeta)])) as Readonly<FlagMetadata>;

    let rule: Fn | undefined;
    let parseError: string | undefined;
    let targeting = raw['targeting'];
    if (hasTargeting(targeting)) {
      if (!isPlainObject(targeting)) {
        issues.push({ code: ConfigWarningCode.TARGETING_NOT_OBJECT, path: '$.targeting', message: 'targeting should be a JSON Logic object' });
      }
      try {
        targeting = inlineRefs(targeting, evaluators, '$.targeting', []);
        const node = this.compiler.compile(targeting, '$.targeting');
        rule = node.fn;
      } catch (err) {
        if (!(err instanceof RuleError)) throw err;
        parseError = `invalid targeting for flag "${key}": ${err.message}`;
        issues.push({ code: ConfigWarningCode.INVALID_TARGETING, path: err.path, message: parseError });
      }
    }

    const defaultValue = defaultVariant === undefined ? undefined : variants.get(defaultVariant);
    const firstValue = variants.size > 0 ? variants.values().next().value : undefined;
    const definition = deepFreeze(Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, k === 'targeting' ? targeting : v])));

    const matchOutcomes = new Map<string, Outcome>();
    for (const [name, value] of variants) {
      matchOutcomes.set(name, freezeOutcome({ value, variant: name, reason: Reason.TARGETING_MATCH, flagMetadata: metadata }));
    }
    return {
      key,
      enabled: state === 'ENABLED',
      variants,
      defaultVariant,
      metadata,
      valueType: typeOfValue(defaultVariant !== undefined ? defaultValue : firstValue),
      rule,
      parseError,
      // Without a default variant the caller's code default applies: that is DEFAULT, not STATIC.
      staticOutcome: freezeOutcome({ value: defaultValue, variant: defaultVariant, reason: defaultVariant === undefined ? Reason.DEFAULT : Reason.STATIC, flagMetadata: metadata }),
      defaultOutcome: freezeOutcome({ value: defaultValue, variant: defaultVariant, reason: Reason.DEFAULT, flagMetadata: metadata }),
      matchOutcomes,
      definition,
      fingerprint,
      issues,
    };
  }
}

