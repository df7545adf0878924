// @ts-check
// #/stale?days=N: flags unchanged, serving one variant, or not evaluated for N days.

import { api } from '../api.js';
import { h } from '../dom.js';
import { count, errorText, flagHref, formatTime } from '../format.js';

/** @typedef {import('../types.js').StaleFlag} StaleFlag */
/** @typedef {import('../types.js').StaleReason} StaleReason */
/** @typedef {import('../types.js').StillCurrent} StillCurrent */

/** @type {Record<StaleReason, string>} */
const REASONS = {
  unchanged: 'unchanged for the period',
  'single-variant': 'serves one variant to everyone',
  'not-evaluated': 'not evaluated in the period',
  'not-referenced': 'not referenced in code (last vexil refs upload)',
};

/**
 * @param {URLSearchParams} params
 * @param {StillCurrent} stillCurrent
 * @returns {Promise<HTMLElement | null>}
 */
export async function staleView(params, stillCurrent) {
  const days = params.get('days') || '30';
  const res = await api.stale(days);
  if (!stillCurrent()) return null;
  const daysInput = h('input', { type: 'number', min: 1, value: days, testid: 'stale-days', 'aria-label': 'days', size: 4 });
  /** @param {SubmitEvent} e */
  const apply = (e) => {
    e.preventDefault();
    location.hash = `#/stale?days=${encodeURIComponent(daysInput.value || '30')}`;
  };
  const section = h(
    'section',
    { class: 'stale', testid: 'stale-view' },
    h(
      'form',
      { class: 'toolbar', onsubmit: apply },
      h('h2', {}, 'Stale flags'),
      h('label', {}, 'Unchanged or unused for ', daysInput, ' days'),
      h('button', { type: 'submit', testid: 'stale-apply' }, 'Show'),
    ),
  );
  if (!res.ok) {
    section.append(h('p', { class: 'error', testid: 'stale-error' }, errorText(res)));
    return section;
  }
  const flags = res.body.flags;
  section.append(
    h('p', { class: 'muted', testid: 'stale-count' }, count(flags.length, 'stale flag', 'stale flags')),
    h(
      'table',
      { class: 'grid', testid: 'stale-table' },
      h('thead', {}, h('tr', {}, ['Key', 'Reasons', 'Updated', 'Last evaluated'].map((t) => h('th', {}, t)))),
      h('tbody', {}, flags.map(staleRow)),
    ),
  );
  return section;
}

/** @param {StaleFlag} f */
function staleRow(f) {
  return h(
    'tr',
    { testid: 'stale-row', dataset: { key: f.key, reasons: f.reasons.join(' ') } },
    h('td', {}, h('a', { href: flagHref(f.key) }, f.key)),
    h('td', { class: 'badges' }, f.reasons.map((r) => h('span', { class: 'badge badge-stale', title: REASONS[r] || r }, r))),
    h('td', {}, formatTime(f.updatedAt)),
    h('td', {}, f.lastEvaluatedAt ? formatTime(f.lastEvaluatedAt) : h('span', { class: 'muted' }, 'never')),
  );
}
