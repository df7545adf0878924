/**
 * Deterministic inputs for core-bench.js: evaluation contexts, the four evaluation-case flags, and
 * a realistic 5,000-flag set. Everything is built from a seeded PRNG, so every run (and both
 * engines) sees exactly the same documents and contexts.
 */

/** mulberry32: tiny, fast, good enough to make fixtures. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pickFrom = (rnd, arr) => arr[Math.floor(rnd() * arr.length)];

const COUNTRIES = ['US', 'CA', 'GB', 'DE', 'FR', 'JP', 'BR', 'IN', 'MX', 'AU'];
const DOMAINS = ['example.com', 'example.com', 'example.com', 'acme.io', 'gmail.com', 'corp-3.com', 'mail.example.org'];
const PLANS = ['free', 'free', 'pro', 'enterprise'];
const VERSIONS = ['1.9.9', '2.0.0', '2.0.5', '2.1.0', '2.1.1', '2.2.0', '2.10.3', '3.0.0', '3.0.0-beta.2', '3.1.0', 'v2.4.0', '1.2'];

/**
 * `count` evaluation contexts with ASCII targeting keys, one shared shape (as a real app builds
 * them), a mix of internal and external emails, app versions on both sides of 2.1.0, countries
 * inside and outside US/CA/GB.
 */
export function makeContexts(count = 1000, seed = 42) {
  const rnd = prng(seed);
  const out = [];
  for (let i = 0; i < count; i++) {
    const domain = pickFrom(rnd, DOMAINS);
    const user = `user-${i + 1}@${domain}`;
    out.push({
      targetingKey: user,
      email: user,
      appVersion: pickFrom(rnd, VERSIONS),
      country: pickFrom(rnd, COUNTRIES),
      plan: pickFrom(rnd, PLANS),
      accountAgeDays: Math.floor(rnd() * 2000),
    });
  }
  return out;
}

/** The flags the evaluation cases (1-4) resolve. */
export const CASE_FLAGS = {
  'bench-static': {
    state: 'ENABLED',
    variants: { on: true, off: false },
    defaultVariant: 'on',
  },
  'bench-rollout': {
    state: 'ENABLED',
    variants: { on: true, off: false },
    defaultVariant: 'off',
    targeting: { fractional: [['on', 50], ['off', 50]] },
  },
  'bench-semver': {
    state: 'ENABLED',
    variants: { internal: 'internal', new: 'new', old: 'old' },
    defaultVariant: 'old',
    targeting: {
      if: [
        { ends_with: [{ var: 'email' }, '@example.com'] },
        'internal',
        { if: [{ sem_ver: [{ var: 'appVersion' }, '>=', '2.1.0'] }, 'new', 'old'] },
      ],
    },
  },
  'bench-nested-fractional': {
    state: 'ENABLED',
    variants: { a: 'variant-a', b: 'variant-b', control: 'control' },
    defaultVariant: 'control',
    targeting: {
      if: [
        { in: [{ var: 'country' }, ['US', 'CA', 'GB']] },
        { fractional: [{ cat: [{ var: '$flagd.flagKey' }, { var: 'targetingKey' }] }, ['a', 10], ['b', 90]] },
        null,
      ],
    },
  },
};

export const SET_METADATA = { flagSetId: 'vexil-bench', version: '2024.11.3', environment: 'production' };

export const EVALUATORS = {
  isInternal: { ends_with: [{ var: 'email' }, '@example.com'] },
  isNorthAmerica: { in: [{ var: 'country' }, ['US', 'CA', 'MX']] },
  isPaying: { in: [{ var: 'plan' }, ['pro', 'enterprise']] },
  isModernApp: { sem_ver: [{ var: 'appVersion' }, '>=', '2.2.0'] },
};

const pad = (n) => String(n).padStart(5, '0');

/**
 * A 5,000-flag set: 40% static booleans, 30% targeting with ==/in/ends_with, 20% fractional,
 * 10% sem_ver; about a fifth of the targeting and sem_ver flags reach `$evaluators` through
 * `$ref`; a third of the flags carry metadata; flag set metadata at the root; a few disabled flags.
 */
export function makeFlagSet(count = 5000, seed = 7) {
  const rnd = prng(seed);
  const flags = {};
  for (let i = 0; i < count; i++) {
    const slot = i % 10;
    const kind = slot < 4 ? 'static' : slot < 7 ? 'rule' : slot < 9 ? 'fractional' : 'semver';
    const key = `${kind}-${pad(i)}`;
    const flag = { state: rnd() < 0.03 ? 'DISABLED' : 'ENABLED' };
    if (rnd() < 0.33) flag.metadata = { owner: `team-${Math.floor(rnd() * 40)}`, ticket: `FLAG-${1000 + i}` };
    const useRef = rnd() < 0.2;
    switch (kind) {
      case 'static':
        flag.variants = { on: true, off: false };
        flag.defaultVariant = rnd() < 0.6 ? 'on' : 'off';
        break;
      case 'rule': {
        const form = Math.floor(rnd() * 4);
        flag.variants = { on: true, off: false };
        flag.defaultVariant = 'off';
        if (useRef) {
          flag.targeting = { if: [{ and: [{ $ref: 'isNorthAmerica' }, { $ref: 'isPaying' }] }, 'on', 'off'] };
        } else if (form === 0) {
          flag.targeting = { if: [{ '==': [{ var: 'plan' }, pickFrom(rnd, PLANS)] }, 'on', 'off'] };
        } else if (form === 1) {
          const countries = COUNTRIES.filter(() => rnd() < 0.4);
          flag.targeting = { if: [{ in: [{ var: 'country' }, countries.length ? countries : ['US']] }, 'on', 'off'] };
        } else if (form === 2) {
          flag.targeting = { if: [{ ends_with: [{ var: 'email' }, `@${pickFrom(rnd, DOMAINS)}`] }, 'on', null] };
        } else {
          flag.variants = { blue: 'blue', green: 'green', red: 'red' };
          flag.defaultVariant = 'blue';
          flag.targeting = {
            if: [
              { in: [{ var: 'targetingKey' }, [`user-${i}@example.com`, `user-${i + 1}@acme.io`, `user-${i + 2}@gmail.com`]] },
              'red',
              { '==': [{ var: 'plan' }, 'enterprise'] },
              'green',
              null,
            ],
          };
        }
        break;
      }
      case 'fractional': {
        flag.variants = { a: 'a', b: 'b', c: 'c' };
        flag.defaultVariant = 'a';
        const w = 5 + Math.floor(rnd() * 40);
        if (rnd() < 0.7) {
          flag.targeting = { fractional: [['a', w], ['b', 100 - w]] };
        } else if (rnd() < 0.5) {
          flag.targeting = { fractional: [{ var: 'email' }, ['a', w], ['b', w], ['c', 100 - 2 * w]] };
        } else {
          flag.targeting = {
            if: [{ $ref: 'isInternal' }, 'c', { fractional: [{ cat: [{ var: '$flagd.flagKey' }, { var: 'targetingKey' }] }, ['a', w], ['b', 100 - w]] }],
          };
        }
        break;
      }
      default: {
        flag.variants = { on: true, off: false };
        flag.defaultVariant = 'off';
        if (useRef) {
          flag.targeting = { if: [{ $ref: 'isModernApp' }, 'on', 'off'] };
        } else {
          const op = pickFrom(rnd, ['>=', '>=', '<', '^', '~', '=']);
          flag.targeting = { if: [{ sem_ver: [{ var: 'appVersion' }, op, pickFrom(rnd, ['2.0.0', '2.1.0', '2.2.0', '3.0.0'])] }, 'on', 'off'] };
        }
      }
    }
    flags[key] = flag;
  }
  return { $schema: 'https://flagd.dev/schema/v0/flags.json', metadata: SET_METADATA, $evaluators: EVALUATORS, flags };
}

/** Pretty-printed, as flag files on disk usually are. */
export const toText = (doc) => JSON.stringify(doc, null, 2);
