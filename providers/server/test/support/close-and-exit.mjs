// A process that uses the provider the way an application does and then closes OpenFeature. It
// never calls process.exit: the test asserts that it ends by itself, which it only does when
// onClose leaves no stream, channel, watcher or timer behind.
//
//   node close-and-exit.mjs '<VexilProviderOptions as JSON>' <boolean flag key> [wait|nowait]
//
// `nowait` sets the provider without waiting for it, so OpenFeature.close() runs while
// initialisation may still be pending. Prints one JSON line after evaluating
// ({ ready, value, reason, errorCode }) and "closed" after OpenFeature.close() resolved.
import { OpenFeature } from '@openfeature/server-sdk';
import { VexilProvider } from '@vexil/server-provider';

const [optionsJson, flagKey, wait = 'wait'] = process.argv.slice(2);
const provider = new VexilProvider(JSON.parse(optionsJson));
let ready = wait === 'wait';
if (wait === 'wait') {
  try {
    await OpenFeature.setProviderAndWait(provider);
  } catch {
    ready = false;
  }
} else {
  // The SDK logs the initialisation failure this causes, which is expected here.
  OpenFeature.setLogger({ error() {}, warn() {}, info() {}, debug() {} });
  OpenFeature.setProvider(provider);
}
const details = await OpenFeature.getClient().getBooleanDetails(flagKey, false);
console.log(JSON.stringify({ ready, value: details.value, reason: details.reason, errorCode: details.errorCode ?? null }));
await OpenFeature.close();
console.log('closed');
