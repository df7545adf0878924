/**
 * Turning a flagd flag set document into compiled flags. Structural errors that flagd (and
 * flagd-core) refuse throw FlagConfigError; what only flagd's JSON schema objects to becomes a
 * warning. Flags whose definition did not change keep their compiled form from the previous load.
 */
import { ConfigWarningCode, FlagConfigError, FlagConfigErrorCode, RuleError, pathKey, type ConfigIssue } from './errors.js';
import { MAX_DOCUMENT_DEPTH, deepFreeze, isPlainObject } from './json.js';
import { Compiler, type Compiled, type Fn } from './logic/compile.js';
import { flagdOperators } from './logic/flagd-operators.js';
import { Reason, type FlagMetadata, type FlagValueType, type JsonValue, type ResolutionDetails } from './types.js';

/** How much `$ref` substitution may add to a flag set's rules by default (see EvaluatorOptions.maxRefExpansion). */
export const MAX_REF_EXPANSION = 1_000_000;
/**
 * How deep `$ref` substitution may nest a rule (levels below `targeting`): deeper, the flag resolves
 * PARSE_ERROR, and a definition copied into a flag set document stays within MAX_DOCUMENT_DEPTH.
 */
const MAX_SUBSTITUTED_DEPTH = MAX_DOCUMENT_DEPTH - 12;

/** Details shared by every evaluation that reaches the same outcome; frozen, so sharing is safe. */
export type Outcome = Readonly<Omit<ResolutionDetails<JsonValue>, 'value'> & { value?: JsonValue }>;

/** What a compiled flag is made of. */
interface FlagParts {
  readonly key: string;
  readonly enabled: boolean;
  readonly variants: ReadonlyMap<string, JsonValue>;
  readonly metadata: Readonly<FlagMetadata>;
  /** The type of the default variant's value (else the first variant's); what resolveAll reports. */
  readonly valueType: FlagValueType | undefined;
  /** Compiled targeting, when the flag has any. */
  readonly rule: Fn | undefined;
  /** Set when targeting failed to compile: the flag resolves PARSE_ERROR. */
  readonly parseError: string | undefined;
  /** The answer without targeting: STATIC, or DEFAULT when there is no default variant. */
  readonly staticOutcome: Outcome;
  /** The answer when targeting returns null. */
  readonly defaultOutcome: Outcome;
  /** The definition as written (what re-syncs compare against) and its targeting with `$ref`s inlined. */
  readonly raw: Readonly<Record<string, unknown>>;
  readonly targeting: unknown;
  /**
   * What else the compiled form depends on: set metadata (updated in place when a re-sync changes
   * it without changing this flag) and, if the targeting holds a `$ref`, the evaluators.
   */
  setMetaText: string;
  readonly usesRefs: boolean;
  /** The unresolvable `$ref`, if that is why the flag resolves PARSE_ERROR. */
  readonly refProblem: string | undefined;
  /** Warnings about this flag, with paths relative to the flag (`$` is the flag). */
  readonly issues: readonly ConfigIssue[];
}

// The class gets its fields from FlagParts (one object in, so the bundle names each field once).
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface CompiledFlag extends FlagParts {}

/** One flag, compiled. Immutable; a re-sync that leaves a flag unchanged keeps the same instance. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class CompiledFlag {
  /** TARGETING_MATCH answers by variant name, built on first use. */
  private readonly matches = new Map<string, Outcome>();

  constructor(parts: FlagParts) {
    Object.assign(this, parts);
  }

  /** The TARGETING_MATCH answer for a variant name, or undefined when the flag has no such variant. */
  match(variant: string): Outcome | undefined {
    let o = this.matches.get(variant);
    if (o === undefined) {
      const value = this.variants.get(variant);
      if (value === undefined && !this.variants.has(variant)) return undefined;
      o = Object.freeze({ value: value as JsonValue, variant, reason: Reason.TARGETING_MATCH, flagMetadata: this.metadata });
      this.matches.set(variant, o);
    }
    return o;
  }

  /**
   * True when `raw`, in a document with this set metadata and these evaluators, compiles to this
   * flag. Changes elsewhere in the document that do not reach the flag (set metadata it overrides,
   * evaluators it does not use) leave it unchanged, as flagd-core's per-flag hash does.
   */
  sameAs(raw: Record<string, unknown>, doc: DocumentParts, where: number | undefined): boolean {
    if (!jsonEqual(this.raw, raw)) return false;
    if (this.setMetaText !== doc.setMetaText) {
      const own = raw['metadata'];
      const merged = isPlainObject(own) ? mergeMetadata(doc.setMeta, own) : doc.setMeta;
      if (!sameEntries(this.metadata, merged)) return false;
      this.setMetaText = doc.setMetaText;
    }
    if (this.usesRefs) {
      // Substitute this document's evaluators (each once per load, and counted against
      // maxRefExpansion): the flag is unchanged if that yields the same rule (for a flag with an
      // unresolvable reference: the same partly substituted rule).
      const s = substitute(raw['targeting'], doc, this.key, where);
      if (!jsonEqual(this.targeting, s.targeting, new Map()) || s.error?.message !== this.refProblem) return false;
    }
    return true;
  }
}

/** The parts of a document every flag's compiled form may depend on, and what this load shares between flags. */
interface DocumentParts {
  setMeta: Record<string, unknown>;
  setMetaText: string;
  evaluators: Record<string, unknown>;
  /** Evaluators substituted so far, by name: every `$ref` to one gets the same object. */
  expansions: Map<string, Expansion>;
  /** Subtrees compiled so far (the shared ones are what `$ref`s put in several places). */
  compiled: Map<unknown, Compiled>;
  maxRefExpansion: number;
  /** What `$ref` substitution added to the flags substituted so far. */
  grown: number;
}

/** An evaluator with its own `$ref`s substituted (all of them resolved): the rule, and its size as substitution counts it. */
interface Expansion {
  v: unknown;
  grow: number;
}

/** Same keys and values, in any order (metadata order carries no meaning). */
function sameEntries(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  for (const k of ak) if (!Object.hasOwn(b, k) || !jsonEqual(a[k], b[k])) return false;
  return true;
}

/**
 * Deep equality of JSON values, key order included (it decides the first variant). With `m`, pairs
 * found equal are remembered, so rules sharing subtrees (substituted `$ref`s) compare in time
 * proportional to their distinct parts.
 */
function jsonEqual(a: any, b: any, m?: Map<unknown, unknown>): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (m?.get(a) === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i], m)) return false;
  } else {
    if (Array.isArray(b)) return false;
    const ak = Object.keys(a);
    const bk = Object.keys(b);
    if (ak.length !== bk.length) return false;
    for (let i = 0; i < ak.length; i++) {
      const k = ak[i];
      if (k !== bk[i] || !jsonEqual(a[k], b[k], m)) return false;
    }
  }
  m?.set(a, b);
  return true;
}

export interface ParsedFlagSet {
  flags: Map<string, CompiledFlag>;
  metadata: Readonly<FlagMetadata>;
  warnings: ConfigIssue[];
}

function typeOfValue(v: unknown): FlagValueType | undefined {
  const t = typeof v;
  return t === 'boolean' || t === 'string' || t === 'number' || t === 'object' ? t : undefined;
}

/** flagd-core treats any targeting with no own keys (`{}`, `[]`, numbers, booleans, "") as none. */
function hasTargeting(t: unknown): boolean {
  if (!t) return false;
  return Object.keys(t as object).length > 0;
}

const REF = '$ref';

/**
 * Replaces `{"$ref": "name"}` with the named evaluator, recursively. Each evaluator is substituted
 * once per load and the same object put wherever it is referenced, so the rule is a DAG and
 * substituting costs what the document holds. Written out, the rule can still be exponentially
 * larger, so what substitution adds is counted (`grow`: an evaluator each time it is referenced,
 * every value in it one, a string or key one more per 16 characters) and the document's total is
 * bounded by `maxRefExpansion`. A reference that cannot be resolved (missing, cyclic, or nesting too
 * deep) stays in place and the first such problem is returned: the flag then resolves PARSE_ERROR,
 * and the partly substituted rule still tells a re-sync whether the evaluators it does use changed.
 */
function substitute(targeting: unknown, doc: DocumentParts, key: string, where: number | undefined): { targeting: unknown; error?: RuleError } {
  const { evaluators, expansions } = doc;
  let grow = 0;
  let error: RuleError | undefined;
  // Problems met so far: an evaluator whose substitution met one is not reused (a cycle's result
  // depends on the way there), so only sound results are shared; the count below bounds the rest.
  let problems = 0;
  const fail = (at: (string | number)[], message: string, node: unknown) => {
    error ??= new RuleError(at.reduce<string>(pathKey, '$'), message);
    problems++;
    return node;
  };
  const count = (n: number) => {
    if ((grow += n) + doc.grown > doc.maxRefExpansion) {
      throw new FlagConfigError(
        FlagConfigErrorCode.RULE_TOO_LARGE,
        flagPath(key, where, 'targeting'),
        `flag "${key}": "$ref"s expand past maxRefExpansion (${doc.maxRefExpansion})`,
      );
    }
  };
  // `at` is the path so far as segments, turned into a string only for a problem; `seen` the evaluators we are in.
  const inline = (node: any, at: (string | number)[], seen: string[], depth: number): unknown => {
    if (seen.length > 0) {
      count(typeof node === 'string' ? 1 + (node.length >> 4) : 1);
      if (depth > MAX_SUBSTITUTED_DEPTH) return fail(at, `rule nests deeper than ${MAX_SUBSTITUTED_DEPTH} levels`, node);
    }
    if (node === null || typeof node !== 'object') return node;
    // Copied on the first change only: a rule without `$ref` comes back as it was.
    if (Array.isArray(node)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < node.length; i++) {
        at.push(i);
        const v = inline(node[i], at, seen, depth + 1);
        at.pop();
        if (v !== node[i]) (copy ??= node.slice())[i] = v;
      }
      return copy ?? node;
    }
    const keys = Object.keys(node);
    if (keys.length === 1 && keys[0] === REF && typeof node[REF] === 'string') {
      const name: string = node[REF];
      if (!Object.hasOwn(evaluators, name)) {
        return fail(at, `"$ref" names the evaluator "${name}", which $evaluators does not define`, node);
      }
      if (seen.includes(name)) return fail(at, `evaluator "${name}" refers to itself through ${[...seen, name].join(' -> ')}`, node);
      let x = expansions.get(name);
      if (x) count(x.grow);
      else {
        const grow0 = grow;
        const problems0 = problems;
        x = { v: inline(evaluators[name], ['$evaluators', name], [...seen, name], depth + 1), grow: grow - grow0 };
        if (problems === problems0) expansions.set(name, x);
      }
      return x.v;
    }
    let copy: Record<string, unknown> | undefined;
    for (const k of keys) {
      if (seen.length > 0) count(k.length >> 4);
      at.push(k);
      const v = inline(node[k], at, seen, depth + 1);
      at.pop();
      if (v !== node[k]) (copy ??= { ...node })[k] = v;
    }
    return copy ?? node;
  };
  const out = inline(targeting, ['targeting'], [], 0);
  doc.grown += grow;
  return { targeting: out, error };
}

/** Metadata must be an object (flagd refuses anything else); its values should be primitives (flagd only warns). */
function checkMetadata(meta: unknown, path: () => string, issues: ConfigIssue[], relPath: string): Record<string, unknown> | undefined {
  if (meta === undefined || meta === null) return undefined;
  if (!isPlainObject(meta)) {
    throw new FlagConfigError(FlagConfigErrorCode.INVALID_METADATA, path(), `metadata must be an object of strings, numbers and booleans, not ${Array.isArray(meta) ? 'an array' : typeof meta}`);
  }
  for (const k of Object.keys(meta)) {
    const t = typeof meta[k];
    if (t !== 'string' && t !== 'number' && t !== 'boolean') {
      warn(issues, ConfigWarningCode.INVALID_METADATA_VALUE, pathKey(relPath, k), 'metadata values must be strings, numbers or booleans');
    }
  }
  return meta;
}

export class FlagSetCompiler {
  private readonly compiler = new Compiler({ operators: flagdOperators(), flagd: true });
  private declare readonly maxRefExpansion: number;

  constructor(maxRefExpansion = MAX_REF_EXPANSION) {
    this.maxRefExpansion = maxRefExpansion;
  }

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

    const setMeta = checkMetadata(doc['metadata'], () => '$.metadata', warnings, '$.metadata') ?? {};
    const setMetaText = JSON.stringify(setMeta);
    const metadata = Object.freeze({ ...setMeta }) as Readonly<FlagMetadata>;

    // The flag list: a map by key (providers' format) or flagd's array of flags with `key`.
    // Each entry: key, definition, and its index in the array form (paths are built only when needed).
    const entries: [string, unknown, number | undefined][] = [];
    const flagsRaw = doc['flags'];
    if (flagsRaw === undefined || flagsRaw === null) {
      warn(warnings, ConfigWarningCode.MISSING_FLAGS, '$.flags', 'the flag set has no "flags"; it loads as empty');
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
        const { key: _, ...rest } = f;
        entries.push([key, rest, i]);
      });
    } else if (isPlainObject(flagsRaw)) {
      for (const key of Object.keys(flagsRaw)) entries.push([key, flagsRaw[key], undefined]);
    } else {
      throw new FlagConfigError(FlagConfigErrorCode.INVALID_CONFIG, '$.flags', '"flags" must be an object keyed by flag key');
    }

    const parts: DocumentParts = { setMeta, setMetaText, evaluators, expansions: new Map(), compiled: new Map(), maxRefExpansion: this.maxRefExpansion, grown: 0 };
    const flags = new Map<string, CompiledFlag>();
    for (const [key, raw, where] of entries) {
      if (!isPlainObject(raw)) throw new FlagConfigError(FlagConfigErrorCode.INVALID_FLAG, flagPath(key, where), `flag "${key}" must be an object`);
      const prev = previous.get(key);
      const flag = prev !== undefined && prev.sameAs(raw, parts, where) ? prev : this.compileFlag(key, raw, where, parts, metadata);
      flags.set(key, flag);
      if (flag.issues.length > 0) {
        const path = flagPath(key, where);
        for (const issue of flag.issues) warnings.push({ ...issue, path: path + issue.path.slice(1) });
      }
    }
    return { flags, metadata, warnings };
  }

  private compileFlag(key: string, raw: Record<string, unknown>, where: number | undefined, doc: DocumentParts, setMetadata: Readonly<FlagMetadata>): CompiledFlag {
    const { setMeta, setMetaText } = doc;
    const issues: ConfigIssue[] = [];
    const state = raw['state'];
    if (state !== 'ENABLED' && state !== 'DISABLED') {
      throw new FlagConfigError(FlagConfigErrorCode.INVALID_STATE, flagPath(key, where, 'state'), `flag "${key}" has state ${JSON.stringify(state) ?? 'undefined'}; expected "ENABLED" or "DISABLED"`);
    }
    const variantsRaw = raw['variants'];
    if (!isPlainObject(variantsRaw)) {
      throw new FlagConfigError(FlagConfigErrorCode.INVALID_VARIANTS, flagPath(key, where, 'variants'), `flag "${key}" must have an object of variants`);
    }
    const variants = new Map<string, JsonValue>();
    let firstType: string | undefined;
    let mixed = false;
    for (const name of Object.keys(variantsRaw)) {
      const v = variantsRaw[name] as JsonValue;
      if (v !== null && typeof v === 'object') deepFreeze(v);
      variants.set(name, v);
      if (v === null || Array.isArray(v)) {
        warn(issues, ConfigWarningCode.INVALID_VARIANT_VALUE, pathKey('$.variants', name), `variant "${name}" is ${v === null ? 'null' : 'an array'}; variants must be booleans, strings, numbers or objects`);
      } else if (firstType === undefined) {
        firstType = typeof v;
      } else if (typeof v !== firstType) {
        mixed = true;
      }
    }
    if (key === '') warn(issues, ConfigWarningCode.EMPTY_FLAG_KEY, '$', 'flag keys must not be empty');
    if (variants.size === 0) warn(issues, ConfigWarningCode.EMPTY_VARIANTS, '$.variants', `flag "${key}" has no variants`);
    if (mixed) {
      const types = [...new Set([...variants.values()].filter((v) => v !== null && !Array.isArray(v)).map((v) => typeof v))].sort();
      warn(issues, ConfigWarningCode.MIXED_VARIANT_TYPES, '$.variants', `flag "${key}" mixes variant types (${types.join(', ')}); all variants of a flag should share one type`);
    }

    // flagd-core reads `defaultVariant || undefined`: "", 0, false and null all mean "use the code default".
    const dvRaw = raw['defaultVariant'];
    if (dvRaw !== undefined && dvRaw !== null && typeof dvRaw !== 'string') {
      warn(issues, ConfigWarningCode.INVALID_DEFAULT_VARIANT, '$.defaultVariant', 'defaultVariant must be a string or null');
    }
    let defaultVariant: string | undefined;
    if (dvRaw) {
      if (typeof dvRaw !== 'string' || !variants.has(dvRaw)) {
        throw new FlagConfigError(
          FlagConfigErrorCode.DEFAULT_VARIANT_NOT_FOUND,
          flagPath(key, where, 'defaultVariant'),
          `flag "${key}" has defaultVariant ${JSON.stringify(dvRaw)}, which is not one of its variants (${[...variants.keys()].map((k) => JSON.stringify(k)).join(', ')})`,
        );
      }
      defaultVariant = dvRaw;
    }

    // Flag metadata wins over flag set metadata; a flag without its own shares the set's object.
    const flagMeta = checkMetadata(raw['metadata'], () => flagPath(key, where, 'metadata'), issues, '$.metadata');
    const metadata = flagMeta === undefined ? setMetadata : mergeMetadata(setMeta, flagMeta);

    let rule: Fn | undefined;
    let parseError: string | undefined;
    let targeting = raw['targeting'];
    // Whether the compiled form depends on $evaluators: the targeting holds a $ref, resolved or not.
    let usesRefs = false;
    let refProblem: string | undefined;
    if (hasTargeting(targeting)) {
      if (!isPlainObject(targeting)) {
        warn(issues, ConfigWarningCode.TARGETING_NOT_OBJECT, '$.targeting', 'targeting should be a JSON Logic object');
      }
      try {
        const s = substitute(targeting, doc, key, where);
        usesRefs = s.targeting !== targeting || s.error !== undefined;
        targeting = s.targeting;
        refProblem = s.error?.message;
        if (s.error) throw s.error;
        // flagd-core substitutes evaluators first and then asks whether any targeting is left.
        // Substituted evaluators are shared objects: compile each once.
        if (hasTargeting(targeting)) rule = this.compiler.compile(targeting, '$.targeting', usesRefs ? doc.compiled : undefined).fn;
      } catch (err) {
        if (!(err instanceof RuleError)) throw err;
        parseError = `invalid targeting for flag "${key}": ${err.message}`;
        warn(issues, ConfigWarningCode.INVALID_TARGETING, err.path, parseError);
      }
    }

    const defaultValue = defaultVariant === undefined ? undefined : variants.get(defaultVariant);
    const firstValue = variants.size > 0 ? variants.values().next().value : undefined;
    // Without a default variant the caller's code default applies: that is DEFAULT, not STATIC.
    const staticOutcome: Outcome =
      defaultVariant === undefined
        ? Object.freeze({ reason: Reason.DEFAULT, flagMetadata: metadata })
        : Object.freeze({ value: defaultValue as JsonValue, variant: defaultVariant, reason: Reason.STATIC, flagMetadata: metadata });
    const defaultOutcome: Outcome =
      defaultVariant === undefined
        ? staticOutcome
        : Object.freeze({ value: defaultValue as JsonValue, variant: defaultVariant, reason: Reason.DEFAULT, flagMetadata: metadata });
    // What evaluation reads first: V8 keeps the first few properties in the object itself.
    return new CompiledFlag({
      enabled: state === 'ENABLED',
      rule,
      parseError,
      staticOutcome,
      defaultOutcome,
      key,
      metadata,
      variants,
      valueType: typeOfValue(defaultVariant !== undefined ? defaultValue : firstValue),
      raw,
      targeting,
      setMetaText,
      usesRefs,
      refProblem,
      issues,
    });
  }
}

/** Records a warning. */
function warn(issues: ConfigIssue[], code: string, path: string, message: string): void {
  issues.push({ code, path, message });
}

/** Flag metadata over set metadata, frozen. */
export function mergeMetadata(setMeta: Record<string, unknown>, flagMeta: Record<string, unknown>): Readonly<FlagMetadata> {
  return Object.freeze(Object.fromEntries([...Object.entries(setMeta), ...Object.entries(flagMeta)])) as Readonly<FlagMetadata>;
}

/** A flag's path (by key, or by index in the array form), or the path of its member `sub`. */
function flagPath(key: string, index: number | undefined, sub?: string): string {
  const p = pathKey('$.flags', index ?? key);
  return sub ? pathKey(p, sub) : p;
}

const definitions = new WeakMap<CompiledFlag, Readonly<Record<string, unknown>>>();

/**
 * A flag's definition as loaded, `$ref`s inlined, frozen; built on first request. A function and
 * not a getter so that bundles which never ask for definitions (the browser's) leave it out.
 */
export function definitionOf(flag: CompiledFlag): Readonly<Record<string, unknown>> {
  let def = definitions.get(flag);
  if (def === undefined) {
    const copy = Object.fromEntries(Object.entries(flag.raw).map(([k, v]) => [k, k === 'targeting' ? flag.targeting : v]));
    // Frozen in place: the raw definition and the substituted targeting are the engine's own (parsed or copied), never the caller's.
    def = deepFreeze(copy) as Readonly<Record<string, unknown>>;
    definitions.set(flag, def);
  }
  return def;
}
