/**
 * Where the tools read a flag set from: a flagd document or OpenFeature CLI manifest (a JSON or
 * YAML file, or an http(s) URL), or a running daemon's management API.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { CommandIo } from '../admin/commands.js';
import { CodegenError } from './codegen.js';

export async function fetchJson(io: CommandIo, url: string, token: string | undefined): Promise<unknown> {
  const res = await (io.fetch ?? fetch)(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  if (!res.ok) throw new CodegenError(url, `HTTP ${res.status}: ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CodegenError(url, `not JSON: ${(err as Error).message}`);
  }
}

/** The flags of a running daemon: every page of GET /api/v1/flags (flagd's array form, keys included). */
export async function fromDaemon(io: CommandIo, base: string, token: string | undefined): Promise<unknown> {
  const flags: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = (await fetchJson(io, `${base}/api/v1/flags${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`, token)) as { flags: unknown[]; nextCursor?: string };
    flags.push(...page.flags);
    cursor = page.nextCursor;
  } while (cursor);
  return { flags };
}

/** A flag document from a JSON or YAML file, or an http(s) URL. */
export async function loadFlagDocument(io: CommandIo, source: string): Promise<unknown> {
  if (/^https?:\/\//.test(source)) return fetchJson(io, source, undefined);
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (err) {
    throw new CodegenError(source, `cannot read: ${(err as Error).message}`);
  }
  try {
    return ['.yaml', '.yml'].includes(extname(source)) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new CodegenError(source, `not ${['.yaml', '.yml'].includes(extname(source)) ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
}
