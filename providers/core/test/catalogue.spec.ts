import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigWarningCode, FlagConfigErrorCode } from '../src/index.js';

const here = new URL('.', import.meta.url).pathname;
const readme = readFileSync(join(here, '../README.md'), 'utf8');

/** Codes listed in the README table that follows `heading`. */
function tableCodes(heading: string): string[] {
  const start = readme.indexOf(heading);
  expect(start, `README section "${heading}"`).toBeGreaterThanOrEqual(0);
  const lines = readme.slice(start).split('\n').slice(1);
  const rows = [];
  let inTable = false;
  for (const line of lines) {
    if (line.startsWith('|')) inTable = true;
    else if (inTable) break;
    const m = /^\| `([A-Z_]+)` \|/.exec(line);
    if (m) rows.push(m[1]);
  }
  return rows;
}

describe('the error catalogue', () => {
  it('README lists exactly the FlagConfigError codes', () => {
    expect(tableCodes('`FlagConfigError` codes').sort()).toEqual(Object.values(FlagConfigErrorCode).sort());
  });

  it('README lists exactly the warning codes', () => {
    expect(tableCodes('Warnings (').sort()).toEqual(Object.values(ConfigWarningCode).sort());
  });
});

describe('the engine stays portable', () => {
  it('imports nothing from Node or the DOM and never generates code', () => {
    const dir = join(here, '../src');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith('.ts')) files.push(join(d, e.name));
      }
    };
    walk(dir);
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      // Comments may name what the code avoids; only code counts.
      const src = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      const imports = [...src.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]);
      for (const spec of imports) expect(spec.startsWith('.'), `${f} imports ${spec}`).toBe(true);
      expect(src, f).not.toMatch(/\beval\s*\(|new\s+Function\b|\brequire\s*\(|\bprocess\.|\bwindow\.|\bdocument\./);
    }
  });
});
