// @ts-check
// #/new: the create form, with a variants template per type.

import { api } from '../api.js';
import { h, setChildren } from '../dom.js';
import { errorText, flagHref, pretty } from '../format.js';
import { parseJson } from '../targeting.js';
import { variantOptions } from '../widgets.js';

/** @typedef {import('../types.js').FlagDefinition} FlagDefinition */
/** @typedef {import('../types.js').FlagMetadata} FlagMetadata */
/** @typedef {import('../types.js').FlagState} FlagState */
/** @typedef {import('../types.js').Json} Json */

/** @type {Record<string, { variants: Record<string, Json>, defaultVariant: string }>} */
const TEMPLATES = {
  boolean: { variants: { on: true, off: false }, defaultVariant: 'off' },
  string: { variants: { a: 'first', b: 'second' }, defaultVariant: 'a' },
  number: { variants: { low: 1, high: 10 }, defaultVariant: 'low' },
  object: { variants: { a: { color: 'red' }, b: { color: 'blue' } }, defaultVariant: 'a' },
};

/**
 * A parse failure as the form shows it: what, and where ("variants, line 2, column 5").
 * @param {string} field
 * @param {string} text
 * @returns {{ ok: true, value: Json } | { ok: false, message: string, where: string }}
 */
function parseField(field, text) {
  const parsed = parseJson(text);
  if (parsed.ok) return parsed;
  const name = field[0].toUpperCase() + field.slice(1);
  return { ok: false, message: `${name} is not valid JSON: ${parsed.message}`, where: parsed.line ? `${field}, line ${parsed.line}, column ${parsed.column}` : '' };
}

export function createFlagView() {
  const key = h('input', { type: 'text', required: true, pattern: '[^\\s]+', testid: 'new-key', 'aria-label': 'key', placeholder: 'new-checkout' });
  const flagSet = h('input', { type: 'text', testid: 'new-flagset', 'aria-label': 'flag set', placeholder: 'optional' });
  const type = h(
    'select',
    { testid: 'new-type', 'aria-label': 'type' },
    Object.keys(TEMPLATES).map((t) => h('option', { value: t }, t)),
  );
  const variants = h('textarea', { class: 'code', rows: 5, testid: 'new-variants', 'aria-label': 'variants JSON', spellcheck: 'false' });
  const defaultVariant = h('select', { testid: 'new-default', 'aria-label': 'default variant' });
  const state = h('select', { testid: 'new-state', 'aria-label': 'state' }, h('option', { value: 'ENABLED' }, 'enabled'), h('option', { value: 'DISABLED' }, 'disabled'));
  const owner = h('input', { type: 'text', testid: 'new-owner', 'aria-label': 'owner', placeholder: 'you, unless given' });
  const description = h('input', { type: 'text', testid: 'new-description', 'aria-label': 'description', size: 40 });
  const targeting = h('textarea', { class: 'code', rows: 5, testid: 'new-targeting', 'aria-label': 'targeting JSON', spellcheck: 'false', placeholder: 'optional, e.g. {"fractional": [["on", 10], ["off", 90]]}' });
  const error = h('p', { class: 'error', testid: 'new-error', role: 'alert', hidden: true });
  const errorPath = h('code', { testid: 'new-error-path' });
  const submit = h('button', { type: 'submit', testid: 'new-submit' }, 'Create flag');

  /** @param {string} [preferred] */
  const fillDefaults = (preferred) => {
    const parsed = parseJson(variants.value);
    const names = parsed.ok && parsed.value && typeof parsed.value === 'object' && !Array.isArray(parsed.value) ? Object.keys(parsed.value) : [];
    const current = preferred ?? defaultVariant.value;
    setChildren(defaultVariant, variantOptions(names));
    if (names.includes(current)) defaultVariant.value = current;
  };
  const applyTemplate = () => {
    const template = TEMPLATES[type.value];
    variants.value = pretty(template.variants);
    fillDefaults(template.defaultVariant);
  };
  type.addEventListener('change', applyTemplate);
  variants.addEventListener('input', () => fillDefaults());
  applyTemplate();

  /**
   * @param {string} text
   * @param {string} [path]
   */
  const fail = (text, path) => {
    setChildren(error, path ? errorPath : '', path ? ' ' : '', text);
    errorPath.textContent = path || '';
    error.hidden = false;
  };

  /**
   * The definition the form describes, or why there is none.
   * @returns {{ ok: true, body: FlagDefinition } | { ok: false, message: string, where: string }}
   */
  const definition = () => {
    const k = key.value.trim();
    if (!k) return { ok: false, message: 'Give the flag a key.', where: '' };
    const v = parseField('variants', variants.value);
    if (!v.ok) return v;
    /** @type {FlagDefinition} */
    const body = { key: k, state: /** @type {FlagState} */ (state.value), variants: /** @type {Record<string, Json>} */ (v.value), defaultVariant: defaultVariant.value || null };
    if (flagSet.value.trim()) body.flagSetId = flagSet.value.trim();
    if (targeting.value.trim()) {
      const t = parseField('targeting', targeting.value);
      if (!t.ok) return t;
      // The API says what is wrong with a targeting that is JSON but no rule (a path and a code).
      body.targeting = /** @type {import('../types.js').Rule} */ (t.value);
    }
    /** @type {FlagMetadata} */
    const metadata = {};
    if (owner.value.trim()) metadata.owner = owner.value.trim();
    if (description.value.trim()) metadata.description = description.value.trim();
    if (Object.keys(metadata).length) body.metadata = metadata;
    return { ok: true, body };
  };

  /** @param {SubmitEvent} e */
  const onSubmit = async (e) => {
    e.preventDefault();
    error.hidden = true;
    const def = definition();
    if (!def.ok) return fail(def.message, def.where);
    submit.disabled = true;
    const res = await api.createFlag(def.body);
    submit.disabled = false;
    if (res.ok) {
      location.hash = flagHref(def.body.key);
      return;
    }
    fail(res.status === 409 ? `A flag named ${def.body.key} exists already.` : errorText(res), res.body.error.path);
  };

  return h(
    'form',
    { class: 'create', testid: 'new-form', novalidate: true, onsubmit: onSubmit },
    h('h2', {}, 'New flag'),
    h(
      'div',
      { class: 'form-grid' },
      h('label', {}, 'Key', key),
      h('label', {}, 'Flag set', flagSet),
      h('label', {}, 'Type', type),
      h('label', {}, 'State', state),
      h('label', { class: 'wide' }, 'Variants (JSON object: name → value)', variants),
      h('label', {}, 'Default variant', defaultVariant),
      h('label', {}, 'Owner', owner),
      h('label', { class: 'wide' }, 'Description', description),
      h('label', { class: 'wide' }, 'Targeting (optional JSON Logic)', targeting),
    ),
    error,
    h('div', { class: 'actions' }, submit, h('a', { href: '#/flags', class: 'button subtle' }, 'Cancel')),
  );
}
