// @ts-check
// The page's only way to build DOM: elements from nodes and text, never parsed from HTML strings,
// so that flag data cannot inject markup; no inline style, so the page stays within its CSP.

/** @typedef {import('./types.js').Attrs} Attrs */
/** @typedef {import('./types.js').Child} Child */

/**
 * Creates an element: h('a', { href, testid: 'x', class: 'y', onclick }, ...children).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'testid') el.dataset.testid = String(v);
    else if (k === 'class') el.className = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), /** @type {EventListener} */ (v));
    else if (k === 'value') /** @type {HTMLInputElement} */ (el).value = String(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, ...children);
  return el;
}

/**
 * Replaces the children of `el`.
 * @param {Element} el
 * @param {...Child} children
 */
export function setChildren(el, ...children) {
  el.replaceChildren();
  append(el, ...children);
}

/**
 * Appends to `el`: nested arrays flattened; null, undefined and false skipped; the rest as text.
 * @param {Element} el
 * @param {...Child} children
 */
export function append(el, ...children) {
  for (const c of children) {
    if (Array.isArray(c)) append(el, ...c);
    else if (c instanceof Node) el.append(c);
    else if (c !== undefined && c !== null && c !== false) el.append(document.createTextNode(String(c)));
  }
}

/**
 * An element of index.html by id, checked to be of the kind the code expects.
 * @template {HTMLElement} E
 * @param {string} id
 * @param {new () => E} type
 * @returns {E}
 */
export function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`dashboard: index.html has no ${type.name} #${id}`);
  return el;
}
