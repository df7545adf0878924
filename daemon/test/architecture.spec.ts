/**
 * The daemon's import graph, read from daemon/src: sources feed the store and the servers read it,
 * so no arrow may run from `sources/` into `servers/`; one server does not reach into another's
 * folder for shared plumbing (that lives in `servers/http/`, `servers/*.ts` or `src/grpc/`), the
 * rest of the daemon sees sources through their contract and `sources/uri.ts` only, and the shared
 * modules stay neutral. Issue 15, "One vocabulary at every seam".
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** One import between two files of daemon/src, both as paths relative to it (posix separators). */
interface Edge {
  readonly from: string;
  readonly to: string;
}

interface Rule {
  readonly name: string;
  readonly forbids: (edge: Edge) => boolean;
}

const inFolder = (path: string, folder: string) => path.startsWith(`${folder}/`);
/** `servers/<x>/...` → `x`; undefined for files directly in servers/ or elsewhere. */
const serverOf = (path: string) => /^servers\/([^/]+)\//.exec(path)?.[1];

const RULES: readonly Rule[] = [
  { name: 'sources/ imports nothing from servers/', forbids: (e) => inFolder(e.from, 'sources') && inFolder(e.to, 'servers') },
  {
    name: 'no server imports from servers/management/ (shared code goes to servers/http/ or servers/*.ts)',
    forbids: (e) => serverOf(e.from) !== undefined && serverOf(e.from) !== 'management' && inFolder(e.to, 'servers/management'),
  },
  {
    // filePathOf and parseS3Uri used to live in the file and s3 sources, so admin/ and config/ reached into them.
    name: 'outside sources/, only the contract, createSource, uri.ts and shared/ are imported (not a source implementation)',
    forbids: (e) => !inFolder(e.from, 'sources') && /^sources\/(file|http|s3|grpc)\//.test(e.to),
  },
  {
    name: 'the shared modules (src/grpc/, servers/http/) import no server and no source',
    forbids: (e) =>
      (inFolder(e.from, 'grpc') || inFolder(e.from, 'servers/http')) &&
      (inFolder(e.to, 'sources') || (serverOf(e.to) !== undefined && serverOf(e.to) !== 'http')),
  },
];

// Static imports and re-exports (`import x from`, `import type`, `export {..} from`, bare
// `import '...'`) and dynamic `import('...')`; comments are stripped first so prose cannot match.
const SPECIFIER = /(?:\bimport\s*(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?|\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s*from\s+|\bimport\s*\(\s*)['"]([^'"]+)['"]/g;

/** The relative imports of one file, resolved to paths relative to daemon/src. */
function importsOf(file: string, text: string): Edge[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const edges: Edge[] = [];
  for (const m of code.matchAll(SPECIFIER)) {
    const spec = m[1];
    if (!spec.startsWith('.')) continue;
    const to = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts');
    edges.push({ from: file, to });
  }
  return edges;
}

function violations(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of files) {
    for (const edge of importsOf(file, text)) {
      for (const rule of RULES) if (rule.forbids(edge)) out.push(`${edge.from} → ${edge.to}: ${rule.name}`);
    }
  }
  return out;
}

function sourceFiles(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(path, out);
    // `.d.ts` files only type the dashboard's browser scripts, which are not part of this graph.
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.set(relative(SRC, path).split(sep).join('/'), readFileSync(path, 'utf8'));
  }
  return out;
}

describe('daemon import graph', () => {
  it('reads imports, re-exports and dynamic imports, not comments or package imports', () => {
    const text = [
      "import type { A } from '../source.js';",
      "import { b,\n  c } from './b.js';",
      "export { d } from '../../servers/d/d.js';",
      "export * from './e.js';",
      "const f = await import('../f.js');",
      "import '../side-effect.js';",
      "import * as grpc from '@grpc/grpc-js';",
      "// import { x } from '../../servers/x.js';",
      "/* import { y } from '../../servers/y.js'; */",
    ].join('\n');
    expect(importsOf('sources/grpc/grpc-source.ts', text).map((e) => e.to)).toEqual([
      'sources/source.ts',
      'sources/grpc/b.ts',
      'servers/d/d.ts',
      'sources/grpc/e.ts',
      'sources/f.ts',
      'sources/side-effect.ts',
    ]);
  });

  it('flags each kind of forbidden arrow (the layout before issue 15 had the first two)', () => {
    const before = new Map([
      ['sources/grpc/grpc-source.ts', "import { grpcServiceDefinition } from '../../servers/grpc/definitions.js';"],
      ['servers/ofrep/ofrep-server.ts', "import { listenable } from '../management/listen.js';"],
      ['servers/http/listen.ts', "import { x } from '../ofrep/etag.js';"],
      ['grpc/definitions.ts', "import type { Source } from '../sources/source.js';"],
      ['admin/file-repository.ts', "import { filePathOf } from '../sources/file/file-source.js';"],
      ['config/parse.ts', "import { filePathOf } from '../sources/uri.js';\nimport type { SourceConfig } from '../sources/source.js';"],
      // Allowed: management's own files, servers/*.ts, a server using the shared modules.
      ['servers/management/index.ts', "export { listenable } from '../http/listen.js';\nimport { y } from './management-server.js';"],
      ['servers/connection-limits.ts', "import { z } from './management/index.js';"],
      ['servers/sync/sync-server.ts', "import { g } from '../../grpc/definitions.js';\nimport { n } from '../net-listen.js';"],
    ]);
    expect(violations(before)).toEqual([
      'sources/grpc/grpc-source.ts → servers/grpc/definitions.ts: sources/ imports nothing from servers/',
      'servers/ofrep/ofrep-server.ts → servers/management/listen.ts: no server imports from servers/management/ (shared code goes to servers/http/ or servers/*.ts)',
      'servers/http/listen.ts → servers/ofrep/etag.ts: the shared modules (src/grpc/, servers/http/) import no server and no source',
      'grpc/definitions.ts → sources/source.ts: the shared modules (src/grpc/, servers/http/) import no server and no source',
      'admin/file-repository.ts → sources/file/file-source.ts: outside sources/, only the contract, createSource, uri.ts and shared/ are imported (not a source implementation)',
    ]);
  });

  it('has no forbidden arrow: none from sources/ into servers/, from one server into servers/management/, or into a source implementation', () => {
    const files = sourceFiles(SRC);
    expect(files.size).toBeGreaterThan(40);
    expect(files.has('sources/grpc/grpc-source.ts')).toBe(true);
    expect(violations(files)).toEqual([]);
  });

  it('names every export of src/index.ts in the README\'s public entry points, and nothing else', () => {
    const index = readFileSync(join(SRC, 'index.ts'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    const exported = [...index.matchAll(/export\s*\{([^}]*)\}\s*from/g)]
      .flatMap((m) => m[1].split(','))
      .map((name) => name.trim().replace(/^type\s+/, ''))
      .filter((name) => name !== '');
    expect(exported).toContain('startDaemon');
    const readme = readFileSync(join(SRC, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Public entry points'), readme.indexOf('```ts', readme.indexOf('## Public entry points')));
    const named = new Set([...section.matchAll(/`([A-Za-z_]\w*)(?:\(|`)/g)].map((m) => m[1]));
    expect(exported.filter((name) => !named.has(name))).toEqual([]);
    // Named in the section as an API (`name(` or a bare identifier) but not exported:
    const notes = new Set(['vexil', 'store', 'metrics', 'ports', 'stop', 'reason', 'vexil_source_errors_total']);
    expect([...named].filter((name) => !exported.includes(name) && !notes.has(name))).toEqual([]);
  });

  it('points every relative import at a file that exists', () => {
    const files = sourceFiles(SRC);
    const missing = [...files].flatMap(([file, text]) => importsOf(file, text).filter((e) => !files.has(e.to)).map((e) => `${e.from} → ${e.to}`));
    expect(missing).toEqual([]);
  });
});
