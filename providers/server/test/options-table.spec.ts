/**
 * The option table in src/config/options.ts drives parsing, defaults, variable names and the
 * README: these tests hold the four together, so that a new option is one entry.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, ENV_VARS, ProviderConfigError, optionsHelp, resolveConfig, type ResolvedConfig } from '../src/config/index.js';

const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** Every option name the table knows: one row of optionsHelp() each. */
function tableOptions(): string[] {
  return [...optionsHelp().matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
}

describe('option table', () => {
  it("is the README's option table, word for word", () => {
    expect(readFileSync(README, 'utf8')).toContain(`\n${optionsHelp()}\n`);
  });

  it('has a row for every option of the resolved config, and for nothing else', () => {
    const derived = ['grpcTarget', 'fatalStatusCodeNumbers', 'unknownFatalStatusCodes'];
    const configKeys = Object.keys(resolveConfig({}, {})).filter((key) => !derived.includes(key));
    expect(tableOptions().sort()).toEqual(configKeys.sort());
  });

  it('names each variable in the row of its option', () => {
    const help = optionsHelp();
    for (const [key, name] of Object.entries(ENV_VARS)) {
      const option = key === 'syncPort' ? 'port' : key;
      expect(help, name).toMatch(new RegExp(`^\\| \`${option}\` \\|[^|]*\`${name}\``, 'm'));
    }
  });

  it('gives each option the default DEFAULTS lists, and shows it in the README row', () => {
    const unset = resolveConfig({}, {});
    const help = optionsHelp();
    for (const [key, value] of Object.entries(DEFAULTS)) {
      if (key === 'rpcPort' || key === 'inProcessPort') continue;
      expect(unset[key as keyof ResolvedConfig], key).toBe(value);
      expect(help, key).toMatch(new RegExp(`^\\| \`${key}\` \\|[^|]*\\| \`?${String(value)}\`? \\|`, 'm'));
    }
    expect(unset.port).toBe(DEFAULTS.rpcPort);
    expect(resolveConfig({ resolverType: 'in-process' }, {}).port).toBe(DEFAULTS.inProcessPort);
  });

  // Typed variables refuse text that is not their type, and the error names the variable the
  // table gives: so the table's name is the one read.
  const typed = Object.entries(ENV_VARS).filter(([key]) => !['host', 'targetUri', 'socketPath', 'certPath', 'selector', 'providerId', 'offlineFlagSourcePath', 'defaultAuthority', 'fatalStatusCodes'].includes(key));
  it.each(typed)('reads %s from %s, refusing a value that is not one', (key, name) => {
    // FLAGD_SYNC_PORT is read in-process only.
    const options = key === 'syncPort' ? { resolverType: 'in-process' as const } : {};
    let error: unknown;
    try {
      resolveConfig(options, { [name]: 'not-a-value' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProviderConfigError);
    expect((error as ProviderConfigError).option).toBe(name);
    expect((error as ProviderConfigError).message.startsWith(`${name}: "not-a-value" is not `)).toBe(true);
  });
});
