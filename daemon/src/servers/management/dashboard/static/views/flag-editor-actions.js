// @ts-check
// The flag editor's lifecycle buttons: kill switch, enable/disable, archive/restore, delete (the
// destructive ones ask first), reload and the link to the flag's history.

import { api } from '../api.js';
import { h, setChildren } from '../dom.js';
import { isArchived } from '../targeting.js';
import { confirmDialog } from '../widgets.js';

/** @typedef {import('../types.js').EditorContext} EditorContext */
/** @typedef {import('../types.js').EditorPart} EditorPart */
/** @typedef {import('../types.js').Flag} Flag */
/** @typedef {import('../types.js').FlagPatch} FlagPatch */

/**
 * Turns a flag back on; after the kill switch, also drops killedAt/killedBy (merge patch: null removes).
 * @param {Flag} flag
 * @returns {FlagPatch}
 */
function enablePatch(flag) {
  const m = flag.metadata || {};
  return m.killedAt === undefined && m.killedBy === undefined ? { state: 'ENABLED' } : { state: 'ENABLED', metadata: { killedAt: null, killedBy: null } };
}

/**
 * @param {EditorContext} ctx
 * @returns {EditorPart}
 */
export function createActions(ctx) {
  const element = h('div', { class: 'actions', testid: 'flag-actions' });
  const key = () => ctx.flag().key;

  /**
   * A write that asks first.
   * @param {string} title
   * @param {string} message
   * @param {string} okLabel
   * @param {string} label
   * @param {Parameters<EditorContext['write']>[1]} call
   */
  const confirmed = async (title, message, okLabel, label, call) => {
    if (!(await confirmDialog(title, message, okLabel))) return;
    return ctx.write(label, call);
  };
  const kill = () =>
    confirmed(`Kill ${key()}?`, `Every SDK will stop serving ${key()} and answer with the application's coded default, within about a second. Undo with Enable.`, 'Kill it', 'Kill switch', () => api.killFlag(key()));
  const archive = () =>
    confirmed(`Archive ${key()}?`, 'The flag is disabled and hidden from the default list; restore brings it back as it was.', 'Archive', 'Archive', () => api.archiveFlag(key(), ctx.version()));
  const remove = () =>
    confirmed(`Delete ${key()}?`, 'The flag is removed from the flag file; SDKs then answer FLAG_NOT_FOUND. The audit log keeps its history.', 'Delete', 'Delete', () => api.deleteFlag(key(), ctx.version()));
  const enable = () => ctx.write('Enable', () => api.patchFlag(key(), enablePatch(ctx.flag()), ctx.version()));
  const disable = () => ctx.write('Disable', () => api.patchFlag(key(), { state: 'DISABLED' }, ctx.version()));
  const restore = () => ctx.write('Restore', () => api.restoreFlag(key(), ctx.version()));

  return {
    element,
    show: (flag) => {
      const archived = isArchived(flag);
      const enabled = !archived && flag.state === 'ENABLED';
      const disabled = !archived && flag.state === 'DISABLED';
      setChildren(element,
        enabled ? h('button', { type: 'button', class: 'danger', testid: 'kill-button', onclick: kill }, 'Kill switch') : null,
        disabled ? h('button', { type: 'button', testid: 'enable-button', onclick: enable }, 'Enable') : null,
        enabled ? h('button', { type: 'button', testid: 'disable-button', onclick: disable }, 'Disable') : null,
        archived
          ? h('button', { type: 'button', testid: 'restore-button', onclick: restore }, 'Restore')
          : h('button', { type: 'button', testid: 'archive-button', onclick: archive }, 'Archive'),
        h('button', { type: 'button', class: 'danger subtle', testid: 'delete-button', onclick: remove }, 'Delete'),
        h('button', { type: 'button', testid: 'reload-button', onclick: () => ctx.reload() }, 'Reload'),
        h('a', { class: 'button', href: `#/audit?flag=${encodeURIComponent(flag.key)}`, testid: 'history-link' }, 'History'),
      );
    },
  };
}
