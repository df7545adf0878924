/**
 * A test page for the official @openfeature/flagd-web-provider (Connect JSON on the daemon's
 * evaluation port: v1 ResolveAll, then EventStream). Query: host, port, visitor. Renders the
 * demo's flags with the same data attributes as examples/web/app.js (body[data-rendered-at] too),
 * and counts CONFIGURATION_CHANGED events in body[data-config-changes].
 */
import { FlagdWebProvider } from '@openfeature/flagd-web-provider';
import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';

const params = new URLSearchParams(location.search);
const client = OpenFeature.getClient();
const FLAGS = [
  ['welcome-banner', false],
  ['new-editor', false],
  ['checkout-enabled', true],
];
let changes = 0;

function render() {
  const status = document.getElementById('status');
  status.dataset.status = client.providerStatus;
  status.textContent = client.providerStatus;
  const rows = FLAGS.map(([key, fallback]) => {
    const d = client.getBooleanDetails(key, fallback);
    const row = document.createElement('tr');
    Object.assign(row.dataset, { flag: key, value: JSON.stringify(d.value), variant: d.variant ?? '', reason: d.reason ?? '', errorCode: d.errorCode ?? '' });
    row.textContent = `${key} = ${JSON.stringify(d.value)} (${d.variant ?? ''}, ${d.reason})`;
    return row;
  });
  document.getElementById('flags').replaceChildren(...rows);
  document.body.dataset.configChanges = String(changes);
  document.body.dataset.renderedAt = String(performance.timeOrigin + performance.now());
}

client.addHandler(ProviderEvents.ConfigurationChanged, () => {
  changes++;
  render();
});
for (const type of [ProviderEvents.Ready, ProviderEvents.Stale, ProviderEvents.Error, ProviderEvents.ContextChanged]) client.addHandler(type, render);

OpenFeature.setProvider(
  new FlagdWebProvider({ host: params.get('host') ?? 'localhost', port: Number(params.get('port') ?? 8013), tls: false, maxRetries: 3 }),
  { targetingKey: params.get('visitor') ?? 'visitor-anonymous' },
);
// After setProvider: before it, the client shows the no-op provider, which is READY.
render();
