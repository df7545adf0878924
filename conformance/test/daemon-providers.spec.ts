/**
 * The flagd testbed's provider suites through the official @openfeature/flagd-provider against the
 * Vexil daemon process: every scenario tagged @rpc with the rpc resolver (evaluation port), every
 * scenario tagged @in-process with the in-process resolver (sync port). Needs the daemon built
 * (`npx tsc -b`, which `npm test` runs first). Run alone with
 * `npx vitest run conformance/test/daemon-providers.spec.ts`.
 */
import { defineDaemonProviderSuite } from '../src/daemon-suite.js';
import { testbedPath } from '../src/testbed.js';

/** The provider features that concern a daemon. */
const FEATURES = [
  'evaluation',
  'targeting',
  'disabled',
  'selector',
  'metadata',
  'contextEnrichment',
  'events',
  'sync-payload',
  'rpc-caching',
].map((name) => testbedPath('gherkin', `${name}.feature`));

/** Tag → why scenarios (or Examples blocks) carrying it are not run. */
const EXCLUSIONS = {
  '@fractional-v1': 'legacy bucketing, excluded by the issue',
  '@fractional-v3': 'CBOR bucketing input, not in flagd yet',
  '@deprecated': 'superseded by @no-default-variant, whose expectations it contradicts',
  // Capabilities this setup cannot provide (none occurs in the features above at the testbed commit;
  // listed so a testbed update that adds them is skipped with a reason instead of failing oddly).
  '@unixsocket': 'needs the daemon on a unix socket (launchpad socket config)',
  '@customCert': 'needs launchpad\'s TLS config and certificates',
  '@targetURI': 'needs the envoy proxy of the testbed\'s docker compose',
  '@forbidden': 'needs the envoy proxy answering 403',
  '@legacy-sync-port': 'needs the legacy sync port configuration',
  '@providerId': 'provider id scenarios need launchpad\'s sync testbed',
};

/**
 * @openfeature/flagd-provider 0.16.1's rpc resolver drops its cache when the event stream breaks and
 * bypasses it while the channel is not READY, so nothing is CACHED during an outage (upstream's own
 * JS e2e run excludes @caching for rpc).
 */
const RPC_LIMITATIONS = [
  {
    feature: 'rpc-caching.feature',
    scenario: 'Stale and Error stage',
    step: 'the reason should be "CACHED"',
    occurrence: 2, // the evaluation during the outage; the first one, before it, must pass
    reason: 'rpc resolver clears its cache on disconnect',
  },
];

defineDaemonProviderSuite({ mode: 'rpc', features: FEATURES, exclude: EXCLUSIONS, knownLimitations: RPC_LIMITATIONS });
defineDaemonProviderSuite({ mode: 'in-process', features: FEATURES, exclude: EXCLUSIONS });
