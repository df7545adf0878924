/**
 * The flagd testbed's provider suites through our @vexil/server-provider against the Vexil daemon
 * process, in each mode: @rpc (evaluation port), @in-process (sync port) and @file (the harness's
 * flag file, no daemon). The same features and exclusions as the official provider's run
 * (daemon-providers.spec.ts); no known limitations: ours keeps serving cached STATIC flags while
 * STALE, which is what rpc-caching's "Stale and Error stage" expects. Needs `npx tsc -b` first.
 */
import { defineDaemonProviderSuite } from '../src/daemon-suite.js';
import { EXCLUSIONS, FEATURES, FILE_EXCLUSIONS } from '../src/provider-features.js';
import { vexilProviderFactory } from '../src/vexil-provider-factory.js';

const provider = vexilProviderFactory;
defineDaemonProviderSuite({ provider, mode: 'rpc', features: FEATURES, exclude: EXCLUSIONS });
defineDaemonProviderSuite({ provider, mode: 'in-process', features: FEATURES, exclude: EXCLUSIONS });
defineDaemonProviderSuite({ provider, mode: 'file', features: FEATURES, exclude: FILE_EXCLUSIONS });
