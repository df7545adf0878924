/**
 * `vexil codegen --lang ts`: the real CLI writes the module; the real TypeScript compiler checks
 * it (and that wrong uses fail to compile); the compiled module runs against a real daemon through
 * the in-process provider; --check tells stale from current.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { OpenFeature } from '@openfeature/server-sdk';
import { Evaluator } from '@vexil/core';
import { VexilProvider } from '@vexil/server-provider';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVexil } from './support/cli.js';
import { startDaemon, type DaemonProcess } from './support/daemon-process.js';

const FLAGS = {
  flags: {
    'new-checkout': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', metadata: { description: 'The new checkout flow */ with a comment end' } },
    banner: { state: 'ENABLED', variants: { red: 'red', blue: 'blue' }, defaultVariant: 'red', targeting: { if: [{ ends_with: [{ var: 'email' }, '@vexil.dev'] }, 'blue', null] } },
    'max-items': { state: 'ENABLED', variants: { few: 3, many: 30 }, defaultVariant: 'few' },
    theme: { state: 'ENABLED', variants: { light: { bg: '#fff', dense: false }, dark: { bg: '#000', dense: true } }, defaultVariant: 'light' },
    new_checkout: { state: 'DISABLED', variants: { on: true }, defaultVariant: 'on' },
    '3d-view': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    mixed: { state: 'ENABLED', variants: { a: 'x', b: 2 }, defaultVariant: 'a' },
  },
};

// Under the repository, so the compiler resolves @openfeature/* from its node_modules.
const HERE = fileURLToPath(new URL('.', import.meta.url));
let dir: string;
let flagFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(HERE, '.codegen-'));
  flagFile = join(dir, 'flags.json');
  await writeFile(flagFile, JSON.stringify(FLAGS, null, 2));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The compiler's diagnostics for `files`, strict and with noUnusedLocals, as text lines. */
function typeErrors(files: string[]): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    noUnusedLocals: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
  });
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? `${d.file.fileName.split('/').pop()}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

describe('vexil codegen --lang ts', () => {
  it('writes typed accessors that compile strictly, refuse wrong uses, and skip what it cannot type', async () => {
    const out = join(dir, 'flags.gen.ts');
    const r = await runVexil(['codegen', '--lang', 'ts', '--out', out, flagFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('skipped mixed: variants of mixed or unusable types');
    const code = await readFile(out, 'utf8');
    expect(code).toContain("export type FlagKey = \"3d-view\" | \"banner\" | \"max-items\" | \"new-checkout\" | \"new_checkout\" | \"theme\";");
    expect(code).toContain('export type BannerValue = "blue" | "red";');
    expect(code).toContain('export async function getFlag3dView(');
    expect(code).toContain('export async function getNewCheckout2('); // new_checkout, after new-checkout
    expect(code).toContain('The new checkout flow *\\/ with a comment end');
    expect(code).toContain('export type ThemeValue = { readonly bg: string; readonly dense: boolean };');

    const usage = join(dir, 'usage.ts');
    await writeFile(
      usage,
      [
        "import { OpenFeature } from '@openfeature/server-sdk';",
        "import { FLAG_KEYS, getBanner, getBannerDetails, getMaxItems, getNewCheckout, getTheme, type FlagKey } from './flags.gen.js';",
        'export async function use(): Promise<number> {',
        '  const client = OpenFeature.getClient();',
        '  const colour: "red" | "blue" = await getBanner(client, { email: "a@vexil.dev" });',
        '  const on: boolean = await getNewCheckout(client);',
        '  const n: number = await getMaxItems(client);',
        '  const dense: boolean = (await getTheme(client)).dense;',
        '  const d = await getBannerDetails(client);',
        '  const key: FlagKey = FLAG_KEYS[0];',
        '  // @ts-expect-error a colour the flag does not have',
        '  if (colour === "green") return 0;',
        '  // @ts-expect-error not a flag key',
        '  const wrong: FlagKey = "no-such-flag";',
        '  // @ts-expect-error a boolean flag is not a string',
        '  const s: string = await getNewCheckout(client);',
        '  return n + (on ? 1 : 0) + (dense ? 1 : 0) + d.value.length + key.length + wrong.length + s.length;',
        '}',
        '',
      ].join('\n'),
    );
    expect(typeErrors([out, usage])).toEqual([]);

    // The same input in another key order gives the same bytes.
    const shuffled = join(dir, 'shuffled.json');
    await writeFile(shuffled, JSON.stringify({ flags: Object.fromEntries(Object.entries(FLAGS.flags).reverse()) }));
    const again = await runVexil(['codegen', '--lang', 'ts', shuffled]);
    expect(again.stdout.replace(shuffled, flagFile)).toBe(code);
  });

  it('web accessors and an OpenFeature CLI manifest compile against @openfeature/web-sdk', async () => {
    const manifest = join(dir, 'manifest.json');
    await writeFile(manifest, JSON.stringify({ flags: { 'dark-mode': { flagType: 'boolean', defaultValue: false, description: 'Dark theme' }, 'retry-count': { flagType: 'integer', defaultValue: 3 } } }));
    const out = join(dir, 'web.gen.ts');
    expect((await runVexil(['codegen', '--lang', 'ts', '--client', 'web', '--out', out, manifest])).code).toBe(0);
    const usage = join(dir, 'web-usage.ts');
    await writeFile(
      usage,
      "import { OpenFeature } from '@openfeature/web-sdk';\nimport { getDarkMode, getRetryCount } from './web.gen.js';\nexport const x: boolean = getDarkMode(OpenFeature.getClient()) && getRetryCount(OpenFeature.getClient()) > 1;\n",
    );
    expect(typeErrors([out, usage])).toEqual([]);
    expect(await readFile(out, 'utf8')).toContain(' * Dark theme');
  });

  describe('the generated module against a real daemon', () => {
    let daemon: DaemonProcess;
    beforeAll(async () => {
      daemon = await startDaemon(['-f', `file:${flagFile}`]);
    });
    afterAll(async () => {
      await OpenFeature.close();
      await daemon?.stop();
    });

    it('answers what the engine answers, through the in-process provider', async () => {
      const out = join(dir, 'run.gen.ts');
      expect((await runVexil(['codegen', '--lang', 'ts', '--daemon', `http://127.0.0.1:${daemon.ports.management}`, '--out', out])).code).toBe(0);
      const js = ts.transpileModule(await readFile(out, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
      const mjs = join(dir, 'run.gen.mjs');
      await writeFile(mjs, js);
      const gen = await import(pathToFileURL(mjs).href);
      await OpenFeature.setProviderAndWait('codegen', new VexilProvider({ resolverType: 'in-process', host: '127.0.0.1', port: daemon.ports.sync }));
      const client = OpenFeature.getClient('codegen');
      const ev = new Evaluator();
      ev.setFlags(JSON.stringify(FLAGS));
      for (const ctx of [{ email: 'a@vexil.dev' }, { email: 'b@example.com' }]) {
        expect(await gen.getBanner(client, ctx)).toBe(ev.resolveString('banner', 'x', ctx).value);
        expect((await gen.getBannerDetails(client, ctx)).variant).toBe(ev.resolveString('banner', 'x', ctx).variant);
      }
      expect(await gen.getMaxItems(client)).toBe(3);
      expect(await gen.getTheme(client)).toEqual({ bg: '#fff', dense: false });
      // A disabled flag gives the code default the accessor passes: the flag's default value.
      expect(await gen.getNewCheckout2(client)).toBe(true);
    });
  });

  it('--check passes when current and fails when the flags changed; bad input exits with where', async () => {
    const out = join(dir, 'check.gen.ts');
    expect((await runVexil(['codegen', '--lang', 'ts', '--out', out, flagFile])).code).toBe(0);
    const ok = await runVexil(['codegen', '--lang', 'ts', '--out', out, '--check', flagFile]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('is up to date');
    const changed = join(dir, 'changed.json');
    await writeFile(changed, JSON.stringify({ flags: { ...FLAGS.flags, extra: { state: 'ENABLED', variants: { on: true }, defaultVariant: 'on' } } }));
    const stale = await runVexil(['codegen', '--lang', 'ts', '--out', out, '--check', changed]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('is stale');
    expect(await readFile(out, 'utf8')).not.toContain('extra'); // --check writes nothing

    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"flags": ');
    const bad = await runVexil(['codegen', '--lang', 'ts', broken]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not JSON: .* \(at .*broken\.json\)/);
    expect((await runVexil(['codegen', '--lang', 'go', flagFile])).code).toBe(2);
    expect((await runVexil(['codegen', '--lang', 'ts', '--check', flagFile])).stderr).toContain('--check needs --out');
    expect((await runVexil(['codegen', '--lang', 'ts', join(dir, 'missing.json')])).stderr).toContain('cannot read');
  });
});
