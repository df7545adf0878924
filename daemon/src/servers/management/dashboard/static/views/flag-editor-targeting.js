// @ts-check
// The flag editor's JSON panel: the targeting rule as text, checked as it is typed, and the API's
// JSON path and message beside it when the daemon refuses what was saved.

import { h } from '../dom.js';
import { pretty } from '../format.js';
import { parseJson } from '../targeting.js';

/** @typedef {import('../types.js').ApiFailure} ApiFailure */
/** @typedef {import('../types.js').EditorContext} EditorContext */
/** @typedef {import('../types.js').EditorPart} EditorPart */
/** @typedef {import('../types.js').Flag} Flag */
/** @typedef {import('../types.js').Rule} Rule */

/**
 * @param {Flag} flag
 */
const textOf = (flag) => (flag.targeting === undefined || flag.targeting === null ? '' : pretty(flag.targeting));

/**
 * @param {EditorContext} ctx
 * @returns {EditorPart & { clearError(): void, showRefused(proposed: Rule | undefined, res: ApiFailure): void }}
 */
export function createTargetingPanel(ctx) {
  const editor = h('textarea', { class: 'code', rows: 14, spellcheck: 'false', testid: 'targeting-editor', 'aria-label': 'targeting JSON' });
  const errorPath = h('code', { testid: 'targeting-error-path' });
  const errorMessage = h('span', { testid: 'targeting-error-message' });
  const error = h('div', { class: 'error inline', testid: 'targeting-error', role: 'alert', hidden: true }, errorPath, ' ', errorMessage);

  /**
   * @param {string} path
   * @param {string} text
   * @param {'syntax' | 'api'} kind a syntax error goes away once the text parses; the API's stays
   */
  const showError = (path, text, kind) => {
    errorPath.textContent = path;
    errorPath.hidden = !path;
    errorMessage.textContent = text;
    error.dataset.kind = kind;
    error.hidden = false;
  };

  /** @returns {{ ok: true, value: Rule | undefined } | { ok: false }} */
  const checkSyntax = () => {
    const text = editor.value.trim();
    if (text === '') {
      error.hidden = true;
      return { ok: true, value: undefined };
    }
    const parsed = parseJson(text);
    if (!parsed.ok) {
      showError(parsed.line ? `line ${parsed.line}, column ${parsed.column}` : '', `Not valid JSON: ${parsed.message}`, 'syntax');
      return parsed;
    }
    if (parsed.value === null || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
      showError('$', 'Targeting must be a JSON Logic object such as {"if": [...]} (or empty for none).', 'syntax');
      return { ok: false };
    }
    if (error.dataset.kind === 'syntax') error.hidden = true;
    return { ok: true, value: parsed.value };
  };
  editor.addEventListener('input', () => {
    if (error.dataset.kind === 'syntax' || error.hidden) checkSyntax();
  });

  const save = () => {
    const parsed = checkSyntax();
    if (parsed.ok) return ctx.replaceTargeting(parsed.value, 'Targeting');
  };
  const format = () => {
    const parsed = checkSyntax();
    if (parsed.ok && parsed.value !== undefined) editor.value = pretty(parsed.value);
  };
  const revert = () => {
    editor.value = textOf(ctx.flag());
    error.hidden = true;
  };

  const element = h(
    'div',
    { class: 'panel', testid: 'targeting-panel' },
    h('h3', {}, 'Targeting (JSON Logic)'),
    h('p', { class: 'muted small' }, 'Empty for none: every evaluation gets the default variant.'),
    editor,
    error,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', testid: 'targeting-save', onclick: save }, 'Save targeting'),
      h('button', { type: 'button', testid: 'targeting-format', onclick: format }, 'Format'),
      h('button', { type: 'button', testid: 'targeting-revert', onclick: revert }, 'Revert'),
    ),
  );

  return {
    element,
    show: (flag) => {
      editor.value = textOf(flag);
    },
    clearError: () => {
      error.hidden = true;
    },
    // What was refused stays in the editor, with the API's path and message beside it.
    showRefused: (proposed, res) => {
      if (proposed !== undefined) editor.value = pretty(proposed);
      const e = res.body.error;
      showError(e.path || '', `${e.code ? `${e.code}: ` : ''}${e.message || 'invalid flag'}`, 'api');
    },
  };
}
