// @ts-check
// #/flags/<key>: one flag, its facts and the ways to change it. This module owns the flag shown,
// its version and the write cycle (If-Match, 412, 400); the panels are in flag-editor-*.js and
// reach the flag only through the EditorContext they are given.

import { api } from '../api.js';
import { append, h } from '../dom.js';
import { errorText, shortVersion } from '../format.js';
import { createActions } from './flag-editor-actions.js';
import { createPlanPanel } from './flag-editor-plan.js';
import { createRolloutPanel } from './flag-editor-rollout.js';
import { createRulePanel } from './flag-editor-rule.js';
import { createFacts, createHeader, createVariants } from './flag-editor-summary.js';
import { createTargetingPanel } from './flag-editor-targeting.js';

/** @typedef {import('../types.js').ApiResult<import('../types.js').Flag | null>} WriteResult */
/** @typedef {import('../types.js').EditorContext} EditorContext */
/** @typedef {import('../types.js').EditorPart} EditorPart */
/** @typedef {import('../types.js').Flag} Flag */
/** @typedef {import('../types.js').FlagDefinition} FlagDefinition */
/** @typedef {import('../types.js').StillCurrent} StillCurrent */

const CONFLICT_TEXT = 'This flag changed since you opened it — reload to see the current version, then make your change again.';

/**
 * @param {string} key
 * @param {StillCurrent} stillCurrent
 * @returns {Promise<HTMLElement | null>}
 */
export async function flagDetailView(key, stillCurrent) {
  const res = await api.getFlag(key);
  if (!stillCurrent()) return null;
  if (!res.ok) {
    return h('section', { testid: 'flag-detail-error' }, h('h2', {}, key), h('p', { class: 'error' }, errorText(res)), h('a', { href: '#/flags' }, 'Back to the flags'));
  }
  return flagEditor(res.body, res.etag || res.body.version);
}

/**
 * A flag as PUT takes it: the definition without the read-only key and version.
 * @param {Flag} flag
 * @returns {Omit<FlagDefinition, 'key'>}
 */
function definitionOf(flag) {
  const { version: _version, ...rest } = flag;
  return rest;
}

/**
 * @param {Flag} initialFlag
 * @param {string} initialVersion
 */
function flagEditor(initialFlag, initialVersion) {
  let flag = initialFlag;
  let version = initialVersion;
  const section = h('section', { class: 'flag', testid: 'flag-detail', dataset: { key: flag.key, version } });

  const message = h('p', { class: 'message', testid: 'flag-message', hidden: true });
  const conflict = h(
    'div',
    { class: 'conflict', testid: 'conflict-message', role: 'alert', hidden: true },
    h('strong', {}, 'Conflict. '),
    CONFLICT_TEXT,
    ' ',
    h('button', { type: 'button', testid: 'conflict-reload', onclick: () => reload() }, 'Reload'),
  );
  const actionError = h('p', { class: 'error', testid: 'flag-error', role: 'alert', hidden: true });

  /** @param {string} text */
  const say = (text) => {
    message.textContent = text;
    message.hidden = !text;
  };
  /** @param {string} text */
  const fail = (text) => {
    actionError.textContent = text;
    actionError.hidden = false;
  };
  const clearNotices = () => {
    say('');
    conflict.hidden = true;
    actionError.hidden = true;
    targeting.clearError();
  };

  // One write at a time: every button but those marked keep-enabled waits for the answer.
  const busy = new Set();
  /** @param {boolean} on */
  const setBusy = (on) => {
    section.classList.toggle('busy', on);
    for (const b of section.querySelectorAll('button')) if (!b.dataset.keepEnabled) b.disabled = on;
  };

  /** @type {EditorContext['write']} */
  const write = async (label, call, { onInvalid } = {}) => {
    if (busy.size) return false;
    clearNotices();
    busy.add(label);
    setBusy(true);
    /** @type {WriteResult} */
    let res;
    try {
      res = await call();
    } finally {
      busy.delete(label);
      setBusy(false);
    }
    if (res.ok) {
      // Every write answers the flag it wrote, but DELETE (204): then the flag is gone.
      if (res.body === null) {
        location.hash = '#/flags';
        return true;
      }
      show(res.body, res.etag || res.body.version);
      say(`${label}: saved (version ${shortVersion(version)}).`);
      section.dataset.lastWrite = label;
      return true;
    }
    if (res.status === 412) {
      conflict.hidden = false;
      section.dataset.conflict = 'true';
      return false;
    }
    if (res.status === 400 && onInvalid) {
      onInvalid(res);
      return false;
    }
    fail(`${label} failed: ${errorText(res)}`);
    return false;
  };

  const reload = async () => {
    const res = await api.getFlag(flag.key);
    clearNotices();
    if (!res.ok) return fail(`Reload failed: ${errorText(res)}`);
    show(res.body, res.etag || res.body.version);
    delete section.dataset.conflict;
    say('Reloaded the current version.');
  };

  /** @type {EditorContext['replaceTargeting']} */
  const replaceTargeting = (rule, label) => {
    const next = definitionOf(flag);
    if (rule === undefined) delete next.targeting;
    else next.targeting = rule;
    return write(label, () => api.replaceFlag(flag.key, next, version), { onInvalid: (res) => targeting.showRefused(rule, res) });
  };

  /** @type {EditorContext} */
  const ctx = { flag: () => flag, version: () => version, write, replaceTargeting, reload };
  const header = createHeader();
  const facts = createFacts();
  const actions = createActions(ctx);
  const variants = createVariants(ctx);
  const rollout = createRolloutPanel(ctx);
  const plan = createPlanPanel(ctx);
  const rule = createRulePanel(ctx);
  const targeting = createTargetingPanel(ctx);
  /** @type {EditorPart[]} */
  const parts = [header, facts, actions, variants, plan, rollout, rule, targeting];

  /**
   * @param {Flag} next
   * @param {string} nextVersion
   */
  const show = (next, nextVersion) => {
    flag = next;
    version = nextVersion;
    section.dataset.version = version || '';
    section.dataset.state = flag.state;
    for (const part of parts) part.show(flag, version);
  };

  append(
    section,
    header.element,
    conflict,
    actionError,
    message,
    h('div', { class: 'columns' }, h('div', {}, facts.element, actions.element, variants.element, plan.element, rollout.element, rule.element), h('div', {}, targeting.element)),
  );
  show(flag, version);
  return section;
}
