// @ts-check
// #/audit?flag=&actor=&action=: the audit log, newest first, each entry with what it changed.

import { api } from '../api.js';
import { h } from '../dom.js';
import { count, errorText, flagHref, formatTime, pretty } from '../format.js';
import { jsonDiff } from '../targeting.js';
import { badge } from '../widgets.js';

/** @typedef {import('../types.js').AuditEntry} AuditEntry */
/** @typedef {import('../types.js').AuditFilter} AuditFilter */
/** @typedef {import('../types.js').StillCurrent} StillCurrent */

const ACTIONS = ['create', 'update', 'delete', 'archive', 'restore', 'kill'];

/**
 * @param {URLSearchParams} params
 * @param {StillCurrent} stillCurrent
 * @returns {Promise<HTMLElement | null>}
 */
export async function auditView(params, stillCurrent) {
  const filter = { flag: params.get('flag') || '', actor: params.get('actor') || '', action: params.get('action') || '', limit: params.get('limit') || '100' };
  const res = await api.audit(filter);
  if (!stillCurrent()) return null;

  /**
   * @param {'flag' | 'actor'} name
   * @param {string} placeholder
   */
  const input = (name, placeholder) => h('input', { type: 'text', name, value: filter[name], placeholder, size: 14, testid: `audit-filter-${name}`, 'aria-label': name });
  const action = h(
    'select',
    { name: 'action', testid: 'audit-filter-action', 'aria-label': 'action' },
    h('option', { value: '' }, 'all actions'),
    ACTIONS.map((a) => h('option', { value: a }, a)),
  );
  action.value = filter.action;
  const flagInput = input('flag', 'flag key');
  const actorInput = input('actor', 'actor');
  // The filter lives in the URL, so a filtered log can be linked to and reloaded.
  /** @param {SubmitEvent} e */
  const apply = (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (flagInput.value.trim()) q.set('flag', flagInput.value.trim());
    if (actorInput.value.trim()) q.set('actor', actorInput.value.trim());
    if (action.value) q.set('action', action.value);
    location.hash = `#/audit${q.toString() ? `?${q}` : ''}`;
  };
  const form = h(
    'form',
    { class: 'toolbar', testid: 'audit-filter', onsubmit: apply },
    h('h2', {}, 'Audit log'),
    flagInput,
    actorInput,
    action,
    h('button', { type: 'submit', testid: 'audit-apply' }, 'Filter'),
  );

  const section = h('section', { class: 'audit', testid: 'audit-view' }, form);
  if (!res.ok) {
    section.append(h('p', { class: 'error', testid: 'audit-error' }, errorText(res)));
    return section;
  }
  const entries = res.body.entries;
  // Newest first, whatever order arrived (the API promises it; sorting by seq costs nothing).
  entries.sort((a, b) => b.seq - a.seq || String(b.time).localeCompare(String(a.time)));
  section.append(
    h('p', { class: 'muted', testid: 'audit-count' }, `${count(entries.length, 'entry', 'entries')}, newest first`),
    h('ol', { class: 'audit-list', testid: 'audit-list' }, entries.map(auditEntry)),
  );
  return section;
}

/** @param {unknown} v */
const show = (v) => (v === undefined ? '(absent)' : JSON.stringify(v));

/** @param {AuditEntry} entry */
function auditEntry(entry) {
  const before = entry.before ?? null;
  const after = entry.after ?? null;
  const diff = jsonDiff(before, after);
  return h(
    'li',
    { testid: 'audit-entry', dataset: { seq: entry.seq, action: entry.action, flag: entry.flag } },
    h(
      'details',
      {},
      h(
        'summary',
        {},
        h('span', { class: 'muted' }, `#${entry.seq} `),
        h('time', { datetime: entry.time, title: entry.time }, formatTime(entry.time)),
        ' ',
        badge(entry.action, `action-${entry.action}`, 'audit-action'),
        ' ',
        entry.flag ? h('a', { href: flagHref(entry.flag), testid: 'audit-flag' }, entry.flag) : '',
        ' by ',
        h('strong', { testid: 'audit-actor' }, entry.actor),
        h('span', { class: 'muted small' }, ` · ${count(diff.length, 'change', 'changes')}`),
      ),
      h(
        'table',
        { class: 'grid small', testid: 'audit-diff' },
        h('thead', {}, h('tr', {}, h('th', {}, 'path'), h('th', {}, 'before'), h('th', {}, 'after'))),
        h(
          'tbody',
          {},
          diff.map((d) => h('tr', { testid: 'audit-diff-row' }, h('td', {}, h('code', {}, d.path)), h('td', {}, h('code', { class: 'del' }, show(d.before))), h('td', {}, h('code', { class: 'ins' }, show(d.after))))),
        ),
      ),
      h(
        'div',
        { class: 'columns' },
        h('div', {}, h('h4', {}, 'Before'), h('pre', { class: 'code', testid: 'audit-before' }, pretty(before))),
        h('div', {}, h('h4', {}, 'After'), h('pre', { class: 'code', testid: 'audit-after' }, pretty(after))),
      ),
      entry.version ? h('p', { class: 'muted small' }, `flag set version ${entry.version}`) : null,
    ),
  );
}
