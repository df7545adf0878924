/**
 * The Vexil web demo: @openfeature/web-sdk with VexilWebProvider (local evaluation by default).
 *
 * Query parameters (all optional):
 *   daemon      the daemon's OFREP port, default http://localhost:8016
 *   mode        local (default) or remote (OFREP bulk evaluation, for flag sets not exposed to browsers)
 *   selector    default flagSetId=web-demo; empty for every flag
 *   visitor     the anonymous visitor's targetingKey (default: a random one, kept in localStorage)
 *   grace, backoff, backoffMax   retryGracePeriod (s), retryBackoffMs, retryBackoffMaxMs
 *
 * Every rendered flag is a table row with data-flag, data-value (JSON), data-variant, data-reason
 * and data-error-code, and #status carries data-status (the client's provider status) and
 * data-message, so tests read exact values rather than text.
 */
import { OpenFeature, ProviderEvents, ProviderStatus } from '@openfeature/web-sdk';
import { VexilWebProvider } from '@vexil/web-provider';

const params = new URLSearchParams(location.search);
const daemon = params.get('daemon') || 'http://localhost:8016';
const mode = params.get('mode') || 'local';
const selector = params.has('selector') ? params.get('selector') : 'flagSetId=web-demo';
const number = (name) => (params.has(name) ? Number(params.get(name)) : undefined);

const FLAGS = [
  { key: 'welcome-banner', type: 'boolean', fallback: false },
  { key: 'new-editor', type: 'boolean', fallback: false },
  { key: 'checkout-enabled', type: 'boolean', fallback: true },
];

const TESTER = { targetingKey: 'tester-ann', email: 'ann@vexil.dev', name: 'Ann (internal tester)' };

/** An anonymous visitor keeps one targetingKey across visits, so the rollout does not flicker. */
function visitorKey() {
  const given = params.get('visitor');
  if (given) return given;
  try {
    let key = localStorage.getItem('vexil-demo:visitor');
    if (!key) {
      key = `visitor-${[...crypto.getRandomValues(new Uint8Array(4))].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
      localStorage.setItem('vexil-demo:visitor', key);
    }
    return key;
  } catch {
    return 'visitor-anonymous';
  }
}
const anonymous = { targetingKey: visitorKey() };

const $ = (id) => document.getElementById(id);
const client = OpenFeature.getClient();
let lastMessage = '';
let renders = 0;

function render() {
  const status = client.providerStatus;
  const context = OpenFeature.getContext();
  const statusLine = $('status');
  statusLine.dataset.status = status;
  statusLine.dataset.message = lastMessage;
  statusLine.textContent = {
    [ProviderStatus.NOT_READY]: `NOT_READY: connecting to ${daemon}…`,
    [ProviderStatus.READY]: 'READY: flags are current',
    [ProviderStatus.STALE]: 'STALE: lost the daemon; showing the last flags while reconnecting',
    [ProviderStatus.RECONCILING]: 'RECONCILING: evaluating for the new context',
  }[status] ?? `${status}: ${lastMessage}`;
  $('source').textContent = `${mode} evaluation · ${selector || 'every flag'} · ${daemon}`;

  const rows = [];
  const details = {};
  for (const f of FLAGS) {
    const d = client.getBooleanDetails(f.key, f.fallback);
    details[f.key] = d;
    const row = document.createElement('tr');
    row.dataset.flag = f.key;
    row.dataset.value = JSON.stringify(d.value);
    row.dataset.variant = d.variant ?? '';
    row.dataset.reason = d.reason ?? '';
    row.dataset.errorCode = d.errorCode ?? '';
    for (const text of [f.key, JSON.stringify(d.value), d.variant ?? '', d.errorCode ? `${d.reason} (${d.errorCode})` : d.reason ?? '']) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    rows.push(row);
  }
  $('flags').replaceChildren(...rows);

  $('banner').hidden = !details['welcome-banner'].value;
  $('editor').textContent = details['new-editor'].value ? 'New editor (internal preview)' : 'Classic editor';
  $('checkout').disabled = !details['checkout-enabled'].value;
  $('checkout-note').textContent = details['checkout-enabled'].value ? '' : 'Checkout is switched off for now.';

  const tester = context.email === TESTER.email;
  $('user').textContent = tester ? `${TESTER.name} <${TESTER.email}>` : `anonymous visitor ${context.targetingKey}`;
  $('user').dataset.targetingKey = context.targetingKey ?? '';
  $('login').hidden = tester;
  $('logout').hidden = !tester;

  // When this render happened, on the wall clock a test or benchmark can compare with its own.
  document.body.dataset.renders = String(++renders);
  document.body.dataset.renderedAt = String(performance.timeOrigin + performance.now());
}

for (const type of [ProviderEvents.Ready, ProviderEvents.Stale, ProviderEvents.Error, ProviderEvents.ConfigurationChanged, ProviderEvents.ContextChanged]) {
  client.addHandler(type, (details) => {
    if (type === ProviderEvents.Error) lastMessage = details?.message ?? '';
    else if (type === ProviderEvents.Ready) lastMessage = '';
    render();
  });
}

$('login').addEventListener('click', () => OpenFeature.setContext(TESTER).then(render));
$('logout').addEventListener('click', () => OpenFeature.setContext(anonymous).then(render));

OpenFeature.setProvider(
  new VexilWebProvider({
    baseUrl: daemon,
    mode,
    selector: selector || undefined,
    retryGracePeriod: number('grace'),
    retryBackoffMs: number('backoff'),
    retryBackoffMaxMs: number('backoffMax'),
  }),
  anonymous,
);
// After setProvider: before it, the client shows the no-op provider, which is READY.
render();
