/**
 * The flag file churn of abuse-bench.js, in its own process so its file I/O never waits on the
 * bench's event loop: `node abuse-churn.js <file> <seed>`, forked with IPC. It rewrites the
 * second, read-only source of the daemon (never the management API's file) every 20–400 ms:
 * valid documents, invalid JSON, truncated text, documents the engine refuses, an empty file,
 * in-place (non-atomic) writes, symlink swaps, and removals restored later. Every valid document
 * carries `churn-marker` with the generation as its value, so the bench can tell which one the
 * daemon serves.
 *
 * Messages from the parent: `pause` (write a valid document and stop), `resume`, `stop` (write a
 * valid document, answer `{ stopped, counts, marker }` and exit).
 */
import { renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { prng } from './fixtures.js';
import { chance, int, pick, randomRule } from './abuse-inputs.js';

const [file, seedArg] = process.argv.slice(2);
const rnd = prng(Number(seedArg));
const counts = {};
let generation = 0;
let paused = false;
let timer;

/** A valid document: `churn-marker` plus a few targeted flags whose rules read the contexts the OFREP worker sends. */
function validDoc() {
  generation += 1;
  const flags = {
    'churn-marker': { state: 'ENABLED', variants: { current: `gen-${generation}`, other: 'x' }, defaultVariant: 'current' },
    'churn-semver': {
      state: 'ENABLED',
      variants: { new: 'new', old: 'old' },
      defaultVariant: 'old',
      targeting: { if: [{ sem_ver: [{ var: 'appVersion' }, '>=', '2.1.0'] }, 'new', 'old'] },
    },
    'churn-fractional': {
      state: 'ENABLED',
      variants: { a: 1, b: 2, c: 3 },
      defaultVariant: 'a',
      targeting: { fractional: [{ cat: [{ var: '$flagd.flagKey' }, { var: 'targetingKey' }] }, ['a', 30], ['b', 30], ['c', 40]] },
    },
    'churn-in': {
      state: 'ENABLED',
      variants: { yes: true, no: false },
      defaultVariant: 'no',
      targeting: { if: [{ or: [{ in: [{ var: 'plan' }, ['pro', 'enterprise']] }, { starts_with: [{ var: 'email' }, 'user-1'] }, { in: ['g7', { var: 'groups' }] }] }, 'yes', 'no'] },
    },
  };
  for (let i = int(rnd, 0, 12); i > 0; i--) {
    // Random rules only where the engine accepts them with a warning at most: an unknown operator
    // in a file is a per-flag warning, not a refused document.
    flags[`churn-${i}`] = { state: chance(rnd, 0.8) ? 'ENABLED' : 'DISABLED', variants: { on: `on-${i}`, off: `off-${i}` }, defaultVariant: 'off', targeting: chance(rnd, 0.5) ? randomRule(rnd, 3) : {} };
  }
  return { $schema: 'https://flagd.dev/schema/v0/flags.json', metadata: { flagSetId: 'churn' }, flags };
}

const text = (doc) => (chance(rnd, 0.5) ? JSON.stringify(doc, null, 2) : JSON.stringify(doc));
const atomic = (body) => {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, body);
  renameSync(tmp, file);
};

const ACTIONS = [
  ['valid-rename', 30, () => atomic(text(validDoc()))],
  ['valid-in-place', 10, () => writeFileSync(file, text(validDoc()))],
  ['invalid-json', 8, () => atomic(pick(rnd, ['{', '{"flags":', 'not json', '{"flags":{"a":}}', '\u0000\u0001', '[]']))],
  ['truncated', 8, () => {
    const t = text(validDoc());
    writeFileSync(file, t.slice(0, int(rnd, 1, t.length - 1)));
  }],
  // Documents that parse but are no flag set of flagd's schema; each named, so a report can say
  // which one made the daemon drop the last good flags.
  ['refused:flags-array', 2, () => atomic('{"flags":[]}')],
  ['refused:flags-null', 2, () => atomic('{"flags":null}')],
  ['refused:no-flags-member', 2, () => atomic('{"notFlags":{}}')],
  ['refused:bad-state', 2, () => atomic('{"flags":{"x":{"state":"BOGUS"}}}')],
  ['refused:bad-variants', 2, () => atomic('{"flags":{"x":{"state":"ENABLED","variants":"on"}}}')],
  ['empty', 5, () => writeFileSync(file, '')],
  ['removed', 8, () => rmSync(file, { force: true })],
  ['symlink-swap', 5, () => {
    const target = `${file}.target-${generation % 2}`;
    writeFileSync(target, text(validDoc()));
    const link = `${file}.link`;
    rmSync(link, { force: true });
    symlinkSync(target, link);
    renameSync(link, file);
  }],
];
const TOTAL = ACTIONS.reduce((n, [, w]) => n + w, 0);

function step() {
  let r = rnd() * TOTAL;
  const [name, , act] = ACTIONS.find(([, w]) => (r -= w) < 0) ?? ACTIONS[0];
  try {
    act();
    counts[name] = (counts[name] ?? 0) + 1;
    process.send?.({ action: name });
  } catch (err) {
    counts[`${name}-failed`] = (counts[`${name}-failed`] ?? 0) + 1;
    process.send?.({ error: `${name}: ${err.message}` });
  }
  if (!paused) timer = setTimeout(step, int(rnd, 20, 400));
}

process.on('message', (msg) => {
  if (msg === 'pause' || msg === 'stop') {
    paused = true;
    clearTimeout(timer);
    atomic(JSON.stringify(validDoc()));
    if (msg === 'stop') {
      process.send({ stopped: true, counts, marker: `gen-${generation}` }, () => process.exit(0));
    } else {
      process.send({ paused: true, marker: `gen-${generation}` });
    }
  } else if (msg === 'resume' && paused) {
    paused = false;
    step();
  }
});
process.on('disconnect', () => process.exit(0));

atomic(JSON.stringify(validDoc()));
process.send({ ready: true, marker: `gen-${generation}` });
paused = true;
