// @ts-check
// #/flags: the flag table, filtered by text, state and flag set.

import { api } from '../api.js';
import { h, setChildren } from '../dom.js';
import { count, errorText, flagHref, formatTime } from '../format.js';
import { describeSplit, isArchived, isKilled, rolloutSplit } from '../targeting.js';
import { stateBadges } from '../widgets.js';

/** @typedef {import('../types.js').Flag} Flag */
/** @typedef {import('../types.js').Store} Store */

const STATES = /** @type {const} */ (['ENABLED', 'DISABLED', 'ARCHIVED']);
const COLUMNS = ['Key', 'State', 'Variants', 'Default', 'Rollout', 'Owner', 'Updated'];

/**
 * @param {Store} store
 * @returns {Promise<HTMLElement>}
 */
export async function flagListView(store) {
  const { listFilter, knownFlagSets } = store;
  const container = h('section', { class: 'flags', testid: 'flag-list' });
  const tbody = h('tbody');
  const counter = h('p', { class: 'muted', testid: 'flag-count' });
  const error = h('p', { class: 'error', testid: 'flag-list-error', hidden: true });
  const flagSetSelect = h('select', { testid: 'filter-flagset', 'aria-label': 'flag set' });

  const fillFlagSets = () => {
    const current = listFilter.flagSet;
    setChildren(flagSetSelect,
      h('option', { value: '' }, 'all flag sets'),
      [...knownFlagSets].sort().map((id) => h('option', { value: id }, id)),
    );
    flagSetSelect.value = current;
  };

  // Answers can overtake each other while the user types: only the newest is shown.
  let loadSeq = 0;
  const load = async () => {
    const seq = ++loadSeq;
    const res = await api.listFlags({ q: listFilter.q, state: listFilter.state, flagSet: listFilter.flagSet });
    if (seq !== loadSeq) return;
    if (!res.ok) {
      error.hidden = false;
      error.textContent = errorText(res);
      setChildren(tbody);
      counter.textContent = '';
      return;
    }
    error.hidden = true;
    const flags = res.body.flags;
    for (const f of flags) if (f.flagSetId) knownFlagSets.add(f.flagSetId);
    fillFlagSets();
    flags.sort((a, b) => a.key.localeCompare(b.key));
    setChildren(tbody, ...flags.map(flagRow));
    counter.textContent = count(flags.length, 'flag', 'flags');
    container.dataset.loaded = String(seq);
  };

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let debounce;
  const textInput = h('input', { type: 'search', placeholder: 'key, description or owner', value: listFilter.q, testid: 'filter-text', 'aria-label': 'search' });
  textInput.addEventListener('input', () => {
    listFilter.q = textInput.value.trim();
    clearTimeout(debounce);
    debounce = setTimeout(load, 200);
  });
  const stateSelect = h(
    'select',
    { testid: 'filter-state', 'aria-label': 'state' },
    h('option', { value: '' }, 'all states'),
    STATES.map((s) => h('option', { value: s }, s.toLowerCase())),
  );
  stateSelect.value = listFilter.state;
  stateSelect.addEventListener('change', () => {
    listFilter.state = /** @type {Store['listFilter']['state']} */ (stateSelect.value);
    void load();
  });
  flagSetSelect.addEventListener('change', () => {
    listFilter.flagSet = flagSetSelect.value;
    void load();
  });
  fillFlagSets();

  container.append(
    h('div', { class: 'toolbar' }, h('h2', {}, 'Flags'), textInput, stateSelect, flagSetSelect, h('button', { type: 'button', testid: 'filter-refresh', onclick: () => load() }, 'Refresh'), h('a', { class: 'button', href: '#/new', testid: 'list-new' }, 'New flag')),
    error,
    h(
      'table',
      { class: 'grid', testid: 'flag-table' },
      h('thead', {}, h('tr', {}, COLUMNS.map((t) => h('th', {}, t)))),
      tbody,
    ),
    counter,
  );
  await load();
  return container;
}

/** @param {Flag} flag */
function flagRow(flag) {
  const m = flag.metadata || {};
  const split = rolloutSplit(flag.targeting);
  const variants = Object.entries(flag.variants || {}).map(([name, value]) => h('span', { class: 'variant', title: JSON.stringify(value) }, name));
  return h(
    'tr',
    { testid: 'flag-row', dataset: { key: flag.key, state: flag.state, archived: String(isArchived(flag)), killed: String(isKilled(flag)) } },
    h('td', {}, h('a', { href: flagHref(flag.key), testid: 'flag-link' }, flag.key), flag.flagSetId ? h('div', { class: 'muted small' }, flag.flagSetId) : null, m.description ? h('div', { class: 'muted small' }, m.description) : null),
    h('td', { class: 'badges' }, stateBadges(flag)),
    h('td', { testid: 'flag-variants' }, variants),
    h('td', { testid: 'flag-default' }, flag.defaultVariant === null || flag.defaultVariant === undefined ? h('em', {}, 'none') : flag.defaultVariant),
    h('td', { testid: 'flag-rollout' }, split ? describeSplit(split) : flag.targeting && Object.keys(flag.targeting).length ? h('span', { class: 'muted' }, 'targeted') : ''),
    h('td', { testid: 'flag-owner' }, m.owner || ''),
    h('td', { testid: 'flag-updated', title: m.updatedAt || '' }, formatTime(m.updatedAt)),
  );
}
