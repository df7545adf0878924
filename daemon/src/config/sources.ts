/**
 * Flag sources from the two places flagd takes them: `-f/--uri` URIs (the provider is implied by
 * the prefix) and `-s/--sources` objects (the provider is named). Both become SourceConfig in the
 * normalised form source.ts documents: `file:path`, `http(s)://...`, `grpc://host:port` or
 * `grpcs://host:port` (with `tls` set to match), `s3://bucket/key`.
 */
import type { SourceConfig } from '../sources/source.js';
import { ConfigError, quote } from './errors.js';
import { parseS3Uri } from '../sources/uri.js';

/** flagd's poll interval for http and blob sources when none is configured, in seconds. */
export const DEFAULT_POLL_INTERVAL_SECONDS = 5;

const SUPPORTED_PREFIXES = 'expected file:, http(s)://, grpc(s)://, or s3://';
const SUPPORTED_PROVIDERS = 'file, http, grpc or s3';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Warn = (message: string) => void;

// ------------------------------------------------------------------------------------------------
// -f/--uri
// ------------------------------------------------------------------------------------------------

/**
 * One `-f` URI. `label` names where it came from (`-f/--uri`, `FLAGD_URI`, `--config x.yaml: uri`).
 */
export function sourceFromUri(uri: string, label: string): SourceConfig {
  const bad = (detail: string) => new ConfigError(`${label}: ${detail}`);
  if (uri.startsWith('file:')) {
    if (uri.length === 'file:'.length) throw bad(`source uri ${quote(uri)}: expected a path after file:`);
    return { uri, provider: 'file' };
  }
  if (/^https?:\/\//.test(uri)) {
    checkHttpUrl(uri, label);
    return { uri, provider: 'http', interval: DEFAULT_POLL_INTERVAL_SECONDS };
  }
  const grpc = /^(grpcs?):\/\/(.*)$/.exec(uri);
  if (grpc) {
    checkGrpcTarget(grpc[2], uri, label);
    return { uri, provider: 'grpc', tls: grpc[1] === 'grpcs' };
  }
  if (/^(envoy|dns|uds|xds):\/\//.test(uri)) {
    throw bad(`source uri ${quote(uri)}: gRPC name-resolver URIs (envoy://, dns://, uds://, xds://) are not supported by vexil yet; use grpc://host:port`);
  }
  if (uri.startsWith('s3://')) {
    const { uri: clean, options } = normaliseS3Uri(uri, label);
    return { uri: clean, provider: 's3', interval: DEFAULT_POLL_INTERVAL_SECONDS, ...options };
  }
  if (uri.startsWith('gs://')) throw bad(`source uri ${quote(uri)}: gcs sources are not supported by vexil yet`);
  if (uri.startsWith('azblob://')) throw bad(`source uri ${quote(uri)}: azblob sources are not supported by vexil yet`);
  if (uri.startsWith('core.openfeature.dev/')) {
    throw bad(`source uri ${quote(uri)}: kubernetes (FeatureFlag resource) sources are not supported by vexil yet`);
  }
  const hasScheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri) && !/^[A-Za-z]:[\\/]/.test(uri);
  const hint = hasScheme ? '' : ` (a local file needs the file: prefix, e.g. ${quote(`file:${uri}`)})`;
  throw bad(`unknown source uri ${quote(uri)}: ${SUPPORTED_PREFIXES}${hint}`);
}

// ------------------------------------------------------------------------------------------------
// -s/--sources
// ------------------------------------------------------------------------------------------------

/** Keys of a source object, and the providers they apply to (undefined: any provider). */
const SOURCE_KEYS: Readonly<Record<string, readonly string[] | undefined>> = {
  uri: undefined,
  provider: undefined,
  interval: ['http', 's3'],
  authHeader: ['http'],
  bearerToken: ['http'],
  headers: ['http'],
  oauth: ['http'],
  timeoutS: ['http'],
  selector: ['grpc'],
  tls: ['grpc'],
  certPath: ['grpc'],
  providerID: ['grpc'],
  maxMsgSize: ['grpc'],
  endpoint: ['s3'],
  region: ['s3'],
  forcePathStyle: ['s3'],
};

/** flagd keys vexil understands but does not act on: accepted with a warning. */
const IGNORED_KEYS: Readonly<Record<string, string>> = {
  providerID: 'vexil does not send a provider id upstream',
  maxMsgSize: 'vexil uses the gRPC default message size limit',
  timeoutS: 'vexil uses its own request timeout',
};

/**
 * A `--sources` value: a JSON array (already parsed) of source objects. `label` is e.g.
 * `-s/--sources` or `--config x.yaml: sources`; entries are named `label[i]`.
 */
export function sourcesFromArray(value: unknown, label: string, warn: Warn): SourceConfig[] {
  if (!Array.isArray(value)) {
    throw new ConfigError(`${label}: expected a JSON array of source objects, got ${describeType(value)}`);
  }
  return value.map((entry, i) => sourceFromObject(entry, `${label}[${i}]`, warn));
}

/** One source object, validated and normalised. */
export function sourceFromObject(entry: unknown, label: string, warn: Warn): SourceConfig {
  if (!isPlainObject(entry)) {
    throw new ConfigError(`${label}: expected a source object like {"uri": "...", "provider": "file"}, got ${describeType(entry)}`);
  }
  for (const key of Object.keys(entry)) {
    if (!Object.hasOwn(SOURCE_KEYS, key)) {
      throw new ConfigError(`${label}: unknown key ${quote(key)} (known: ${Object.keys(SOURCE_KEYS).join(', ')})`);
    }
  }
  const field = new Fields(entry, label);
  const uri = field.string('uri');
  if (uri === undefined || uri === '') throw new ConfigError(`${label}: uri is required`);
  const providerName = field.string('provider');
  if (providerName === undefined || providerName === '') {
    throw new ConfigError(`${label}: provider is required (${SUPPORTED_PROVIDERS})`);
  }
  const provider = providerOf(providerName, label);

  for (const key of Object.keys(entry)) {
    const appliesTo = SOURCE_KEYS[key];
    if (appliesTo && !appliesTo.includes(provider)) {
      warn(`${label}: ${quote(key)} is ignored for ${provider} sources`);
    } else if (Object.hasOwn(IGNORED_KEYS, key)) {
      warn(`${label}: ${quote(key)} is ignored (${IGNORED_KEYS[key]})`);
    }
  }

  switch (provider) {
    case 'file':
      return { uri: uri.startsWith('file:') ? uri : `file:${uri}`, provider };
    case 'http':
      return httpSource(uri, field, label);
    case 'grpc':
      return grpcSource(uri, field, label);
    case 's3':
      return s3Source(uri, field, label);
  }
}

function providerOf(name: string, label: string): SourceConfig['provider'] {
  switch (name) {
    case 'file':
    case 'fsnotify': // flagd's explicit watcher choices; vexil's file source picks its own
    case 'fileinfo':
      return 'file';
    case 'http':
    case 'grpc':
    case 's3':
      return name;
    case 'kubernetes':
    case 'gcs':
    case 'azblob':
      throw new ConfigError(`${label}: provider ${quote(name)} is not supported by vexil yet (supported: ${SUPPORTED_PROVIDERS})`);
    default:
      throw new ConfigError(`${label}: unknown provider ${quote(name)}: expected ${SUPPORTED_PROVIDERS}`);
  }
}

function httpSource(uri: string, field: Fields, label: string): SourceConfig {
  if (!/^https?:\/\//.test(uri)) {
    throw new ConfigError(`${label}: http source uri ${quote(uri)} must start with http:// or https://`);
  }
  checkHttpUrl(uri, label);
  if (field.has('oauth')) throw new ConfigError(`${label}: oauth is not supported by vexil yet; use authHeader`);
  field.positiveInteger('timeoutS');
  const out: Mutable<SourceConfig> = { uri, provider: 'http', interval: field.interval() };
  const authHeader = field.headerValue('authHeader');
  const bearerToken = field.headerValue('bearerToken');
  if (authHeader !== undefined && bearerToken !== undefined) {
    throw new ConfigError(`${label}: authHeader and bearerToken cannot be used together`);
  }
  if (authHeader !== undefined) out.authHeader = authHeader;
  else if (bearerToken !== undefined) out.authHeader = `Bearer ${bearerToken}`;
  const headers = field.headers('headers');
  if (headers !== undefined) out.headers = headers;
  return out;
}

function grpcSource(uri: string, field: Fields, label: string): SourceConfig {
  const tlsField = field.boolean('tls');
  let target = uri;
  let secure = tlsField ?? false;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(uri);
  if (scheme) {
    if (scheme[1] === 'grpc' || scheme[1] === 'grpcs') {
      target = scheme[2];
      if (scheme[1] === 'grpcs') {
        if (tlsField === false) throw new ConfigError(`${label}: uri ${quote(uri)} asks for TLS but tls is false`);
        secure = true;
      }
    } else if (/^(envoy|dns|uds|xds)$/.test(scheme[1])) {
      throw new ConfigError(`${label}: gRPC name-resolver URIs (${scheme[1]}://) are not supported by vexil yet; use host:port`);
    } else {
      throw new ConfigError(`${label}: grpc source uri ${quote(uri)}: expected host:port (or grpc://host:port, grpcs://host:port)`);
    }
  }
  checkGrpcTarget(target, uri, label);
  field.positiveInteger('maxMsgSize');
  field.string('providerID');
  const out: Mutable<SourceConfig> = { uri: `${secure ? 'grpcs' : 'grpc'}://${target}`, provider: 'grpc', tls: secure };
  const selector = field.string('selector');
  if (selector !== undefined && selector !== '') out.selector = selector;
  const certPath = field.string('certPath');
  if (certPath !== undefined && certPath !== '') out.certPath = certPath;
  return out;
}

function s3Source(uri: string, field: Fields, label: string): SourceConfig {
  if (!uri.startsWith('s3://')) throw new ConfigError(`${label}: s3 source uri ${quote(uri)} must look like s3://bucket/key`);
  const parsed = normaliseS3Uri(uri, label);
  const out: Mutable<SourceConfig> = { uri: parsed.uri, provider: 's3', interval: field.interval(), ...parsed.options };
  const endpoint = field.string('endpoint');
  if (endpoint !== undefined) out.endpoint = checkEndpoint(endpoint, `${label}.endpoint`);
  const region = field.string('region');
  if (region !== undefined) {
    if (region === '') throw new ConfigError(`${label}.region: expected a non-empty string`);
    out.region = region;
  }
  const forcePathStyle = field.boolean('forcePathStyle');
  if (forcePathStyle !== undefined) out.forcePathStyle = forcePathStyle;
  return out;
}

// ------------------------------------------------------------------------------------------------
// Shared checks
// ------------------------------------------------------------------------------------------------

interface S3Options {
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
}

/**
 * `s3://bucket/key[?region=..&endpoint=..&use_path_style=true]`. The query options are the ones
 * flagd's blob driver reads from the URL; they move into SourceConfig fields, and the uri keeps
 * only `s3://bucket/key`.
 */
function normaliseS3Uri(uri: string, label: string): { uri: string; options: S3Options } {
  const queryAt = uri.indexOf('?');
  const path = uri.slice('s3://'.length, queryAt < 0 ? undefined : queryAt);
  // The bucket/key split is the one the S3 source and repository use at run time.
  try {
    parseS3Uri(`s3://${path}`);
  } catch {
    throw new ConfigError(`${label}: invalid s3 uri ${quote(uri)}: expected s3://bucket/key`);
  }
  const options: S3Options = {};
  if (queryAt >= 0) {
    for (const [name, value] of new URLSearchParams(uri.slice(queryAt + 1))) {
      if (name === 'region') {
        if (value === '') throw new ConfigError(`${label}: s3 uri ${quote(uri)}: region is empty`);
        options.region = value;
      } else if (name === 'endpoint') {
        options.endpoint = checkEndpoint(value, `${label}: s3 uri ${quote(uri)}: endpoint`);
      } else if (name === 'use_path_style' || name === 's3ForcePathStyle') {
        const flag = parseBool(value);
        if (flag === undefined) throw new ConfigError(`${label}: s3 uri ${quote(uri)}: ${name} must be true or false`);
        options.forcePathStyle = flag;
      } else {
        throw new ConfigError(`${label}: s3 uri ${quote(uri)}: unsupported option ${quote(name)} (supported: region, endpoint, use_path_style)`);
      }
    }
  }
  return { uri: `s3://${path}`, options };
}

function checkEndpoint(value: string, label: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(`${label}: invalid endpoint ${quote(value)}: expected an http(s):// URL`);
  }
  return value;
}

function checkHttpUrl(uri: string, label: string): void {
  let url: URL | undefined;
  try {
    url = new URL(uri);
  } catch {
    url = undefined;
  }
  if (!url || url.host === '') throw new ConfigError(`${label}: invalid http source uri ${quote(uri)}: not a valid URL`);
}

function checkGrpcTarget(target: string, uri: string, label: string): void {
  if (target === '' || /[\s/?#]/.test(target)) {
    throw new ConfigError(`${label}: invalid grpc source uri ${quote(uri)}: expected host:port`);
  }
}

/** Go's strconv.ParseBool, which viper uses for booleans from the environment. */
export function parseBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  return undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${quote(value)}`;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function isHeaderName(name: string): boolean {
  return HEADER_NAME.test(name);
}

/** Typed access to a source object's fields, with errors naming `label.key`. */
class Fields {
  constructor(
    private readonly entry: Record<string, unknown>,
    private readonly label: string,
  ) {}

  has(key: string): boolean {
    return this.entry[key] !== undefined && this.entry[key] !== null;
  }

  private fail(key: string, expected: string): never {
    throw new ConfigError(`${this.label}.${key}: expected ${expected}, got ${describeType(this.entry[key])}`);
  }

  string(key: string): string | undefined {
    if (!this.has(key)) return undefined;
    const v = this.entry[key];
    return typeof v === 'string' ? v : this.fail(key, 'a string');
  }

  boolean(key: string): boolean | undefined {
    if (!this.has(key)) return undefined;
    const v = this.entry[key];
    return typeof v === 'boolean' ? v : this.fail(key, 'true or false');
  }

  positiveInteger(key: string): number | undefined {
    if (!this.has(key)) return undefined;
    const v = this.entry[key];
    return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 0xffffffff ? v : this.fail(key, 'a positive integer');
  }

  interval(): number {
    if (!this.has('interval')) return DEFAULT_POLL_INTERVAL_SECONDS;
    const v = this.entry.interval;
    return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 0xffffffff
      ? v
      : this.fail('interval', 'a positive integer (seconds)');
  }

  headerValue(key: string): string | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    if (v === '' || /[\r\n\0]/.test(v)) this.fail(key, 'a non-empty header value without line breaks');
    return v;
  }

  headers(key: string): Readonly<Record<string, string>> | undefined {
    if (!this.has(key)) return undefined;
    const v = this.entry[key];
    if (!isPlainObject(v)) return this.fail(key, 'an object of header names to string values');
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(v)) {
      if (!isHeaderName(name)) throw new ConfigError(`${this.label}.${key}: invalid header name ${quote(name)}`);
      if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
        throw new ConfigError(`${this.label}.${key}.${name}: expected a string without line breaks, got ${describeType(value)}`);
      }
      out[name] = value;
    }
    return out;
  }
}
