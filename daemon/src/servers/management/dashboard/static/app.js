// @ts-check
// The Vexil dashboard: a hash-routed page over the management API (/api/v1). No framework, no
// build step: native ES modules, one per view (views/), over a small DOM helper (dom.js) and the
// API client (api.js). The DOM is built from nodes and text, never parsed from HTML strings, so
// flag data cannot inject markup; nothing is evaluated from strings and no style is set inline, so
// the page runs under a strict Content-Security-Policy (see ../index.ts).
//
// This module wires the page: the router (#/flags, #/flags/<key>, #/new, #/audit?flag=…,
// #/stale?days=…), the token form and the identity line.

import { api, getToken, setToken } from './api.js';
import { byId, h, setChildren } from './dom.js';
import { errorText } from './format.js';
import { createStore } from './store.js';
import { auditView } from './views/audit.js';
import { createFlagView } from './views/flag-create.js';
import { flagDetailView } from './views/flag-editor.js';
import { flagListView } from './views/flag-list.js';
import { staleView } from './views/stale.js';
import { showBanner } from './widgets.js';

/** @typedef {import('./types.js').Route} Route */
/** @typedef {import('./types.js').StillCurrent} StillCurrent */
/** @typedef {import('./types.js').Store} Store */

/** @returns {Route} */
function parseRoute() {
  const raw = location.hash.replace(/^#/, '') || '/flags';
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean);
  return { name: parts[0] || 'flags', arg: parts[1] === undefined ? undefined : decodeURIComponent(parts.slice(1).join('/')), params: new URLSearchParams(query) };
}

/**
 * @param {Route} route
 * @param {Store} store
 * @param {StillCurrent} stillCurrent
 * @returns {Promise<HTMLElement | null>}
 */
async function viewFor(route, store, stillCurrent) {
  if (route.name === 'flags' && route.arg !== undefined) return flagDetailView(route.arg, stillCurrent);
  if (route.name === 'flags') return flagListView(store);
  if (route.name === 'new') return createFlagView();
  if (route.name === 'audit') return auditView(route.params, stillCurrent);
  if (route.name === 'stale') return staleView(route.params, stillCurrent);
  return h('p', {}, 'Unknown page. ', h('a', { href: '#/flags' }, 'Back to the flags.'));
}

/**
 * Renders the route of location.hash into `root`; when the hash changes before a view's data has
 * arrived, the older rendering is dropped.
 * @param {HTMLElement} root
 * @param {Store} store
 */
function createRouter(root, store) {
  let renderSeq = 0;
  return async () => {
    const seq = ++renderSeq;
    const route = parseRoute();
    for (const a of document.querySelectorAll('nav a')) {
      if (a instanceof HTMLElement) a.classList.toggle('active', a.dataset.nav === route.name && !(route.name === 'flags' && route.arg));
    }
    showBanner('');
    setChildren(root, h('p', { class: 'muted' }, 'Loading…'));
    root.dataset.view = '';
    const stillCurrent = () => seq === renderSeq;
    const content = await viewFor(route, store, stillCurrent);
    if (!stillCurrent()) return;
    setChildren(root, content);
    root.dataset.view = route.name === 'flags' && route.arg !== undefined ? 'flag' : route.name;
  };
}

async function refreshWhoami() {
  const el = byId('whoami', HTMLElement);
  const res = await api.whoami();
  if (res.ok) {
    el.textContent = `${res.body.actor} (${res.body.role})`;
    el.dataset.role = res.body.role;
    el.classList.remove('error');
  } else {
    el.textContent = res.status === 401 ? 'token needed' : errorText(res);
    el.dataset.role = '';
    el.classList.add('error');
  }
}

function start() {
  const render = createRouter(byId('view', HTMLElement), createStore());
  const tokenInput = byId('token-input', HTMLInputElement);
  tokenInput.value = getToken();
  byId('token-form', HTMLFormElement).addEventListener('submit', (e) => {
    e.preventDefault();
    setToken(tokenInput.value.trim());
    void refreshWhoami();
    void render();
  });
  byId('token-clear', HTMLButtonElement).addEventListener('click', () => {
    tokenInput.value = '';
    setToken('');
    void refreshWhoami();
    void render();
  });
  window.addEventListener('hashchange', () => void render());
  void refreshWhoami();
  void render().then(() => document.body.setAttribute('data-ready', 'true'));
}

start();
