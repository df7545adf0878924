/**
 * The web provider's option table (WEB_PROVIDER_OPTIONS) drives parsing and defaults; README.md's
 * option table documents it. These tests keep the two in step, each way round.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ProviderConfigError } from '../src/index.js';
import { WEB_PROVIDER_OPTIONS, resolveOptions, type VexilWebProviderOptions } from '../src/options.js';

/** `option → default cell` of the README's Options table; "a / b" rows give one entry each. */
function documented(): Map<string, string> {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const start = readme.indexOf('\n## Options\n');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const rows = new Map<string, string>();
  for (const m of section.matchAll(/^\| (`\w+`(?: \/ `\w+`)*) \| ([^|]+) \|/gm)) {
    const names = m[1].split(' / ').map((n) => n.slice(1, -1));
    const defaults = m[2].trim().split(' / ');
    names.forEach((name, i) => rows.set(name, defaults[names.length === defaults.length ? i : 0]));
  }
  return rows;
}

const entries = Object.entries(WEB_PROVIDER_OPTIONS) as [keyof VexilWebProviderOptions, readonly [string, unknown?, number?]][];

describe('web provider option table', () => {
  it('documents every option in README.md, and no other', () => {
    expect([...documented().keys()].sort()).toEqual(entries.map(([name]) => name).sort());
  });

  it("shows each option's default in README.md as the table has it", () => {
    const rows = documented();
    for (const [name, [, dflt]] of entries) {
      const shown = typeof dflt === 'string' ? `\`'${dflt}'\`` : typeof dflt === 'boolean' ? `\`${dflt}\`` : String(dflt);
      if (dflt === undefined) expect(rows.get(name), name).not.toMatch(/^[`\d]/);
      else expect(rows.get(name), name).toBe(shown);
    }
  });

  it('applies every default of the table to options left out (or null)', () => {
    const config = resolveOptions({ baseUrl: 'http://127.0.0.1:8016', mode: null } as unknown as VexilWebProviderOptions) as unknown as Record<string, unknown>;
    for (const [name, [, dflt]] of entries) if (name !== 'baseUrl') expect(config[name], name).toBe(dflt);
  });

  it.each(entries)('refuses %s of the wrong type, naming it', (name, [type]) => {
    const wrong = type === 'string' ? 42 : 'text';
    const options = { baseUrl: 'http://127.0.0.1:8016', [name]: wrong } as unknown as VexilWebProviderOptions;
    expect(() => resolveOptions(options)).toThrow(ProviderConfigError);
    expect(() => resolveOptions(options)).toThrow(`${name}: ${JSON.stringify(wrong)} is not a ${type}`);
  });

  it.each(entries.filter(([, [, , min]]) => min !== undefined))('refuses %s below its least value', (name, [, , min]) => {
    const options = { baseUrl: 'http://127.0.0.1:8016', [name]: min! - 1 } as unknown as VexilWebProviderOptions;
    expect(() => resolveOptions(options)).toThrow(`${name}: ${min! - 1} is not a number >= ${min}`);
  });
});
