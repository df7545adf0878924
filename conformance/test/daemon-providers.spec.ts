/**
 * The flagd testbed's provider suites through the official @openfeature/flagd-provider against the
 * Vexil daemon process: every scenario tagged @rpc with the rpc resolver (evaluation port), every
 * scenario tagged @in-process with the in-process resolver (sync port), every scenario tagged @file
 * with the provider reading the harness's flag file itself (no daemon). Needs the daemon built
 * (`npx tsc -b`, which `npm test` runs first). Run alone with
 * `npx vitest run conformance/test/daemon-providers.spec.ts`.
 */
import { defineDaemonProviderSuite, type KnownFailure } from '../src/daemon-suite.js';
import { flagdProviderFactory } from '../src/flagd-provider-factory.js';
import { EXCLUSIONS, FEATURES, FILE_EXCLUSIONS } from '../src/provider-features.js';

/**
 * @openfeature/flagd-provider 0.16.1's rpc resolver drops its cache when the event stream breaks and
 * bypasses it while the channel is not READY, so nothing is CACHED during an outage (upstream's own
 * JS e2e run excludes @caching for rpc).
 */
const RPC_LIMITATIONS: KnownFailure[] = [
  {
    feature: 'rpc-caching.feature',
    scenario: 'Stale and Error stage',
    step: 'the reason should be "CACHED"',
    occurrence: 2, // the evaluation during the outage; the first one, before it, must pass
    reason: 'rpc resolver clears its cache on disconnect',
  },
];

const provider = flagdProviderFactory;
defineDaemonProviderSuite({ provider, mode: 'rpc', features: FEATURES, exclude: EXCLUSIONS, knownLimitations: RPC_LIMITATIONS });
defineDaemonProviderSuite({ provider, mode: 'in-process', features: FEATURES, exclude: EXCLUSIONS });
defineDaemonProviderSuite({ provider, mode: 'file', features: FEATURES, exclude: FILE_EXCLUSIONS });
