// @ts-check
// The flag editor's read-mostly parts: the heading with state and version, the facts list, and the
// variants table with the default-variant switch.

import { api } from '../api.js';
import { h, setChildren } from '../dom.js';
import { formatTime, shortVersion } from '../format.js';
import { describeSplit, isKilled, rolloutSplit } from '../targeting.js';
import { badge, stateBadges, variantOptions } from '../widgets.js';

/** @typedef {import('../types.js').EditorContext} EditorContext */
/** @typedef {import('../types.js').EditorPart} EditorPart */

/** @returns {EditorPart} */
export function createHeader() {
  const element = h('div', { class: 'flag-head' });
  return {
    element,
    show: (flag, version) =>
      setChildren(element, h('h2', { testid: 'flag-key' }, flag.key), h('span', { class: 'badges' }, stateBadges(flag)), h('span', { class: 'muted small', testid: 'flag-version', title: version }, `version ${shortVersion(version)}`)),
  };
}

/** @returns {EditorPart} */
export function createFacts() {
  const element = h('dl', { class: 'facts', testid: 'flag-facts' });
  /**
   * @param {string} label
   * @param {string} value
   * @param {string} testid
   */
  const fact = (label, value, testid) => [h('dt', {}, label), h('dd', { testid }, value)];
  return {
    element,
    show: (flag) => {
      const m = flag.metadata || {};
      const split = rolloutSplit(flag.targeting);
      setChildren(element,
        fact('Flag set', flag.flagSetId || '', 'fact-flagset'),
        fact('Owner', m.owner || '', 'fact-owner'),
        fact('Description', m.description || '', 'fact-description'),
        fact('Created', formatTime(m.createdAt), 'fact-created'),
        fact('Updated', formatTime(m.updatedAt), 'fact-updated'),
        isKilled(flag) ? fact('Killed', `${formatTime(m.killedAt)}${m.killedBy ? ` by ${m.killedBy}` : ''}`, 'fact-killed') : null,
        fact('Rollout', split ? describeSplit(split) : '', 'fact-rollout'),
      );
    },
  };
}

/**
 * @param {EditorContext} ctx
 * @returns {EditorPart}
 */
export function createVariants(ctx) {
  const table = h('table', { class: 'grid small', testid: 'variants-table' });
  const defaultSelect = h('select', { testid: 'default-variant-select', 'aria-label': 'default variant' });
  const setDefault = () => ctx.write('Default variant', () => api.patchFlag(ctx.flag().key, { defaultVariant: defaultSelect.value }, ctx.version()));
  return {
    element: [
      h('h3', {}, 'Variants'),
      table,
      h('div', { class: 'rule-row' }, h('label', {}, 'Default variant ', defaultSelect), h('button', { type: 'button', testid: 'default-variant-save', onclick: setDefault }, 'Set default')),
    ],
    show: (flag) => {
      setChildren(table,
        h('thead', {}, h('tr', {}, h('th', {}, 'Variant'), h('th', {}, 'Value'), h('th', {}, ''))),
        h(
          'tbody',
          {},
          Object.entries(flag.variants || {}).map(([name, value]) =>
            h('tr', { testid: 'variant-row', dataset: { variant: name } }, h('td', {}, name), h('td', {}, h('code', {}, JSON.stringify(value))), h('td', {}, name === flag.defaultVariant ? badge('default', 'default') : '')),
          ),
        ),
      );
      setChildren(defaultSelect, variantOptions(Object.keys(flag.variants || {})));
      defaultSelect.value = flag.defaultVariant ?? '';
    },
  };
}
