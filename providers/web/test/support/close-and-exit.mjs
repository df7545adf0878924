// A page's life in a process: set the provider, read a flag, close OpenFeature. It never calls
// process.exit: the test asserts that it ends by itself, which it only does when onClose leaves
// no stream, request or timer behind.
//
//   node close-and-exit.mjs '<VexilWebProviderOptions as JSON>'
import { OpenFeature } from '@openfeature/web-sdk';
import { VexilWebProvider } from '@vexil/web-provider';

const provider = new VexilWebProvider(JSON.parse(process.argv[2]));
await OpenFeature.setProviderAndWait(provider, { targetingKey: 'u-1' });
console.log(`value ${OpenFeature.getClient().getStringValue('banner', 'none')}`);
// Let the stream open, so closing has something to end.
await new Promise((resolve) => setTimeout(resolve, 200));
await OpenFeature.close();
console.log('closed');
