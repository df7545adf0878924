// @ts-check
// Pieces more than one view shows: badges, the status banner, the confirmation dialog.

import { byId, h } from './dom.js';
import { isArchived, isKilled } from './targeting.js';

/** @typedef {import('./types.js').Flag} Flag */

/**
 * @param {string} text
 * @param {string} kind
 * @param {string} [testid]
 */
export function badge(text, kind, testid) {
  return h('span', { class: `badge badge-${kind}`, testid }, text);
}

/** @param {Flag} flag */
export function stateBadges(flag) {
  const out = [badge(flag.state, flag.state === 'ENABLED' ? 'enabled' : 'disabled', 'flag-state')];
  if (isArchived(flag)) out.push(badge('archived', 'archived', 'badge-archived'));
  if (isKilled(flag)) out.push(badge('killed', 'killed', 'badge-killed'));
  return out;
}

/**
 * Shows `text` in the page's banner; '' hides it.
 * @param {string} text
 * @param {string} [kind]
 */
export function showBanner(text, kind = 'info') {
  const b = byId('banner', HTMLElement);
  b.textContent = text;
  b.dataset.kind = kind;
  b.hidden = !text;
}

/**
 * Asks for confirmation in the page's <dialog>.
 * @param {string} title
 * @param {string} message
 * @param {string} okLabel
 * @returns {Promise<boolean>}
 */
export function confirmDialog(title, message, okLabel) {
  const dialog = byId('confirm-dialog', HTMLDialogElement);
  const okButton = byId('confirm-ok', HTMLButtonElement);
  const cancelButton = byId('confirm-cancel', HTMLButtonElement);
  byId('confirm-title', HTMLElement).textContent = title;
  byId('confirm-message', HTMLElement).textContent = message;
  okButton.textContent = okLabel;
  return new Promise((resolve) => {
    /** @param {boolean} answer */
    const done = (answer) => {
      okButton.removeEventListener('click', ok);
      cancelButton.removeEventListener('click', cancel);
      dialog.removeEventListener('cancel', cancel);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const ok = () => done(true);
    const cancel = () => done(false);
    okButton.addEventListener('click', ok);
    cancelButton.addEventListener('click', cancel);
    dialog.addEventListener('cancel', cancel);
    dialog.showModal();
  });
}

/**
 * <option>s for a <select> of variant names.
 * @param {string[]} names
 */
export const variantOptions = (names) => names.map((n) => h('option', { value: n }, n));
