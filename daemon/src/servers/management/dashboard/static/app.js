// The Vexil dashboard: a hash-routed page over the management API (/api/v1). No framework, no
// build step. The DOM is built with h() from nodes and text, never parsed from HTML strings, so flag
// data cannot inject markup; nothing is evaluated from strings and no style is set inline, so the
// page runs under a strict Content-Security-Policy (see ../index.ts).

import { api, getToken, setToken } from './api.js';
import {
  booleanPair,
  buildCondition,
  describeSplit,
  isArchived,
  isKilled,
  jsonDiff,
  parseJson,
  rolloutPercent,
  rolloutSplit,
  RULE_OPERATORS,
  withRollout,
  withTargetedRule,
} from './targeting.js';

// ------------------------------------------------------------------------------------------------
// DOM helpers

/** Creates an element: h('a', { href, testid: 'x', class: 'y', onclick }, ...children). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'testid') el.dataset.testid = v;
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

/** Replaces the children of `el` (nested arrays flattened; null, undefined and false skipped). */
function setChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const $ = (id) => document.getElementById(id);
const view = () => $('view');
const pretty = (v) => JSON.stringify(v, null, 2);

function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

function badge(text, kind, testid) {
  return h('span', { class: `badge badge-${kind}`, testid }, text);
}

function stateBadges(flag) {
  const out = [badge(flag.state, flag.state === 'ENABLED' ? 'enabled' : 'disabled', 'flag-state')];
  if (isArchived(flag)) out.push(badge('archived', 'archived', 'badge-archived'));
  if (isKilled(flag)) out.push(badge('killed', 'killed', 'badge-killed'));
  return out;
}

/** An API error as one line: "CODE: message (at $.path)". */
function errorText(res) {
  const e = (res.body && res.body.error) || {};
  return `${e.code || `HTTP ${res.status}`}: ${e.message || 'request failed'}${e.path ? ` (at ${e.path})` : ''}`;
}

const CONFLICT_TEXT = 'This flag changed since you opened it — reload to see the current version, then make your change again.';

function showBanner(text, kind = 'info') {
  const b = $('banner');
  b.textContent = text;
  b.dataset.kind = kind;
  b.hidden = !text;
}

/** Asks for confirmation in the page's <dialog>; resolves true or false. */
function confirmDialog(title, message, okLabel) {
  const dialog = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-message').textContent = message;
  $('confirm-ok').textContent = okLabel;
  return new Promise((resolve) => {
    const done = (answer) => {
      $('confirm-ok').removeEventListener('click', ok);
      $('confirm-cancel').removeEventListener('click', cancel);
      dialog.removeEventListener('cancel', cancel);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const ok = () => done(true);
    const cancel = () => done(false);
    $('confirm-ok').addEventListener('click', ok);
    $('confirm-cancel').addEventListener('click', cancel);
    dialog.addEventListener('cancel', cancel);
    dialog.showModal();
  });
}

// ------------------------------------------------------------------------------------------------
// Routing: #/flags, #/flags/<key>, #/new, #/audit?flag=…, #/stale?days=…

let renderSeq = 0;

function parseRoute() {
  const raw = location.hash.replace(/^#/, '') || '/flags';
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean);
  return { name: parts[0] || 'flags', arg: parts[1] === undefined ? undefined : decodeURIComponent(parts.slice(1).join('/')), params: new URLSearchParams(query) };
}

async function render() {
  const seq = ++renderSeq;
  const route = parseRoute();
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.nav === route.name && !(route.name === 'flags' && route.arg));
  showBanner('');
  const root = view();
  setChildren(root, h('p', { class: 'muted' }, 'Loading…'));
  root.dataset.view = '';
  const stillCurrent = () => seq === renderSeq;
  let content;
  if (route.name === 'flags' && route.arg !== undefined) content = await flagDetailView(route.arg, stillCurrent);
  else if (route.name === 'flags') content = await flagListView(stillCurrent);
  else if (route.name === 'new') content = createFlagView();
  else if (route.name === 'audit') content = await auditView(route.params, stillCurrent);
  else if (route.name === 'stale') content = await staleView(route.params, stillCurrent);
  else content = h('p', {}, 'Unknown page. ', h('a', { href: '#/flags' }, 'Back to the flags.'));
  if (!stillCurrent()) return;
  setChildren(root, content);
  root.dataset.view = route.name === 'flags' && route.arg !== undefined ? 'flag' : route.name;
}

const flagHref = (key) => `#/flags/${encodeURIComponent(key)}`;

// ------------------------------------------------------------------------------------------------
// Flag list

const listFilter = { q: '', state: '', flagSet: '' };
const knownFlagSets = new Set();

async function flagListView(stillCurrent) {
  const container = h('section', { class: 'flags', testid: 'flag-list' });
  const tbody = h('tbody');
  const count = h('p', { class: 'muted', testid: 'flag-count' });
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

  let loadSeq = 0;
  const load = async () => {
    const seq = ++loadSeq;
    const res = await api.listFlags({ q: listFilter.q, state: listFilter.state, flagSet: listFilter.flagSet });
    if (seq !== loadSeq) return;
    if (!res.ok) {
      error.hidden = false;
      error.textContent = errorText(res);
      setChildren(tbody);
      count.textContent = '';
      return;
    }
    error.hidden = true;
    const flags = (res.body && res.body.flags) || [];
    for (const f of flags) if (f.flagSetId) knownFlagSets.add(f.flagSetId);
    fillFlagSets();
    flags.sort((a, b) => a.key.localeCompare(b.key));
    setChildren(tbody, ...flags.map(flagRow));
    count.textContent = `${flags.length} flag${flags.length === 1 ? '' : 's'}`;
    container.dataset.loaded = String(seq);
  };

  let debounce;
  const textInput = h('input', {
    type: 'search',
    placeholder: 'key, description or owner',
    value: listFilter.q,
    testid: 'filter-text',
    'aria-label': 'search',
    oninput: (e) => {
      listFilter.q = e.target.value.trim();
      clearTimeout(debounce);
      debounce = setTimeout(load, 200);
    },
  });
  const stateSelect = h(
    'select',
    {
      testid: 'filter-state',
      'aria-label': 'state',
      onchange: (e) => {
        listFilter.state = e.target.value;
        void load();
      },
    },
    h('option', { value: '' }, 'all states'),
    ['ENABLED', 'DISABLED', 'ARCHIVED'].map((s) => h('option', { value: s }, s.toLowerCase())),
  );
  stateSelect.value = listFilter.state;
  flagSetSelect.addEventListener('change', (e) => {
    listFilter.flagSet = e.target.value;
    void load();
  });
  fillFlagSets();

  container.append(
    h('div', { class: 'toolbar' }, h('h2', {}, 'Flags'), textInput, stateSelect, flagSetSelect, h('button', { type: 'button', testid: 'filter-refresh', onclick: () => load() }, 'Refresh'), h('a', { class: 'button', href: '#/new', testid: 'list-new' }, 'New flag')),
    error,
    h(
      'table',
      { class: 'grid', testid: 'flag-table' },
      h('thead', {}, h('tr', {}, ['Key', 'State', 'Variants', 'Default', 'Rollout', 'Owner', 'Updated'].map((t) => h('th', {}, t)))),
      tbody,
    ),
    count,
  );
  await load();
  if (!stillCurrent()) return container;
  return container;
}

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

// ------------------------------------------------------------------------------------------------
// Flag detail and editor

/** A flag as PUT takes it: the definition without the read-only version. */
function definitionOf(flag) {
  const { version: _version, ...rest } = flag;
  return rest;
}

async function flagDetailView(key, stillCurrent) {
  const res = await api.getFlag(key);
  if (!stillCurrent()) return null;
  if (!res.ok) {
    return h('section', { testid: 'flag-detail-error' }, h('h2', {}, key), h('p', { class: 'error' }, errorText(res)), h('a', { href: '#/flags' }, 'Back to the flags'));
  }
  return flagEditor(res.body, res.etag || res.body.version);
}

function flagEditor(initialFlag, initialVersion) {
  // What the page shows, and the version every write sends as If-Match.
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

  const say = (text) => {
    message.textContent = text;
    message.hidden = !text;
  };
  const clearNotices = () => {
    say('');
    conflict.hidden = true;
    actionError.hidden = true;
    editorError.hidden = true;
  };

  // -- Targeting editor
  const editor = h('textarea', { class: 'code', rows: 14, spellcheck: 'false', testid: 'targeting-editor', 'aria-label': 'targeting JSON' });
  const editorErrorPath = h('code', { testid: 'targeting-error-path' });
  const editorErrorMessage = h('span', { testid: 'targeting-error-message' });
  const editorError = h('div', { class: 'error inline', testid: 'targeting-error', role: 'alert', hidden: true }, editorErrorPath, ' ', editorErrorMessage);
  const showEditorError = (path, text, kind) => {
    editorErrorPath.textContent = path || '';
    editorErrorPath.hidden = !path;
    editorErrorMessage.textContent = text;
    editorError.dataset.kind = kind;
    editorError.hidden = false;
  };
  const checkSyntax = () => {
    const text = editor.value.trim();
    if (text === '') {
      editorError.hidden = true;
      return { ok: true, value: undefined };
    }
    const parsed = parseJson(text);
    if (!parsed.ok) {
      showEditorError(parsed.line ? `line ${parsed.line}, column ${parsed.column}` : '', `Not valid JSON: ${parsed.message}`, 'syntax');
    } else if (parsed.value === null || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
      showEditorError('$', 'Targeting must be a JSON Logic object such as {"if": [...]} (or empty for none).', 'syntax');
      return { ok: false };
    } else if (editorError.dataset.kind === 'syntax') {
      editorError.hidden = true;
    }
    return parsed;
  };
  editor.addEventListener('input', () => {
    if (editorError.dataset.kind === 'syntax' || editorError.hidden) checkSyntax();
  });

  // -- Writes: every one sends the displayed version as If-Match and handles 412.
  const busy = new Set();
  const setBusy = (on) => {
    section.classList.toggle('busy', on);
    for (const b of section.querySelectorAll('button')) if (!b.dataset.keepEnabled) b.disabled = on;
  };

  /** Runs a write; on success shows the new flag. Returns true when it was applied. */
  const write = async (label, call, { onInvalid } = {}) => {
    if (busy.size) return false;
    clearNotices();
    busy.add(label);
    setBusy(true);
    let res;
    try {
      res = await call();
    } finally {
      busy.delete(label);
      setBusy(false);
    }
    if (res.ok) {
      await adopt(res);
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
    actionError.textContent = `${label} failed: ${errorText(res)}`;
    actionError.hidden = false;
    return false;
  };

  /** Takes the flag from a write's answer when it holds one, else reads it again. */
  const adopt = async (res) => {
    const body = res.body;
    if (body && typeof body === 'object' && body.key === flag.key && body.variants && (res.etag || body.version)) {
      show(body, res.etag || body.version);
      return;
    }
    if (res.status === 204) {
      location.hash = '#/flags';
      return;
    }
    const again = await api.getFlag(flag.key);
    if (again.ok) show(again.body, again.etag || again.body.version);
  };

  const reload = async () => {
    const res = await api.getFlag(flag.key);
    clearNotices();
    if (!res.ok) {
      actionError.textContent = `Reload failed: ${errorText(res)}`;
      actionError.hidden = false;
      return;
    }
    show(res.body, res.etag || res.body.version);
    delete section.dataset.conflict;
    say('Reloaded the current version.');
  };

  const invalidTargeting = (proposed) => (res) => {
    // Show what was refused in the editor, with the API's path and message beside it.
    if (proposed !== undefined) editor.value = pretty(proposed);
    const e = res.body.error || {};
    showEditorError(e.path || '', `${e.code ? `${e.code}: ` : ''}${e.message || 'invalid flag'}`, 'api');
  };

  const replaceTargeting = (targeting, label) => {
    const next = definitionOf(flag);
    if (targeting === undefined) delete next.targeting;
    else next.targeting = targeting;
    return write(label, () => api.replaceFlag(flag.key, next, version), { onInvalid: invalidTargeting(targeting) });
  };

  // -- Header, facts, actions
  const header = h('div', { class: 'flag-head' });
  const facts = h('dl', { class: 'facts', testid: 'flag-facts' });
  const actions = h('div', { class: 'actions', testid: 'flag-actions' });
  const variantsTable = h('table', { class: 'grid small', testid: 'variants-table' });
  const defaultSelect = h('select', { testid: 'default-variant-select', 'aria-label': 'default variant' });

  // -- Rollout slider
  const slider = h('input', { type: 'range', min: 0, max: 100, step: 1, testid: 'rollout-slider', 'aria-label': 'rollout percentage' });
  const sliderValue = h('output', { testid: 'rollout-value' });
  const sliderNote = h('p', { class: 'muted small', testid: 'rollout-note' });
  const rolloutBox = h(
    'div',
    { class: 'panel', testid: 'rollout-panel' },
    h('h3', {}, 'Percentage rollout'),
    h('div', { class: 'slider-row' }, slider, sliderValue),
    sliderNote,
    h('button', { type: 'button', testid: 'rollout-apply', onclick: () => applyRollout() }, 'Apply rollout'),
  );
  const pairOf = () => booleanPair(flag.variants);
  const updateSliderLabel = () => {
    const pair = pairOf();
    if (!pair) return;
    sliderValue.textContent = `${slider.value} % ${pair.on}, ${100 - Number(slider.value)} % ${pair.off}`;
  };
  slider.addEventListener('input', updateSliderLabel);
  const applyRollout = () => {
    const pair = pairOf();
    if (!pair) return;
    return replaceTargeting(withRollout(flag.targeting, Number(slider.value), pair), `Rollout ${slider.value} %`);
  };

  // -- Add targeted rule
  const ruleAttribute = h('input', { type: 'text', value: 'email', size: 12, testid: 'rule-attribute', 'aria-label': 'context attribute' });
  const ruleOperator = h(
    'select',
    { testid: 'rule-operator', 'aria-label': 'operator' },
    Object.entries(RULE_OPERATORS).map(([k, op]) => h('option', { value: k }, op.label)),
  );
  const ruleValue = h('input', { type: 'text', placeholder: '@yourcompany.com', size: 20, testid: 'rule-value', 'aria-label': 'value' });
  const ruleVariant = h('select', { testid: 'rule-variant', 'aria-label': 'variant' });
  const ruleError = h('p', { class: 'error', testid: 'rule-error', hidden: true });
  const ruleBox = h(
    'div',
    { class: 'panel', testid: 'rule-panel' },
    h('h3', {}, 'Add a targeted rule'),
    h('p', { class: 'muted small' }, 'Goes in front of the current targeting: matching evaluations get the variant, the rest go on as before.'),
    h('div', { class: 'rule-row' }, 'If ', ruleAttribute, ruleOperator, ruleValue, ' serve ', ruleVariant, h('button', { type: 'button', testid: 'rule-add', onclick: () => addRule() }, 'Add rule')),
    ruleError,
  );
  const addRule = () => {
    ruleError.hidden = true;
    const attribute = ruleAttribute.value.trim();
    const value = ruleValue.value.trim();
    if (!attribute || !value) {
      ruleError.textContent = 'Give an attribute and a value.';
      ruleError.hidden = false;
      return;
    }
    const condition = buildCondition(attribute, ruleOperator.value, value);
    return replaceTargeting(withTargetedRule(flag.targeting, condition, ruleVariant.value), `Rule ${attribute} ${RULE_OPERATORS[ruleOperator.value].label} ${value}`);
  };

  // -- Targeting editor panel
  const editorBox = h(
    'div',
    { class: 'panel', testid: 'targeting-panel' },
    h('h3', {}, 'Targeting (JSON Logic)'),
    h('p', { class: 'muted small' }, 'Empty for none: every evaluation gets the default variant.'),
    editor,
    editorError,
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          testid: 'targeting-save',
          onclick: () => {
            const parsed = checkSyntax();
            if (!parsed.ok) return;
            return replaceTargeting(parsed.value, 'Targeting');
          },
        },
        'Save targeting',
      ),
      h(
        'button',
        {
          type: 'button',
          testid: 'targeting-format',
          onclick: () => {
            const parsed = checkSyntax();
            if (parsed.ok && parsed.value !== undefined) editor.value = pretty(parsed.value);
          },
        },
        'Format',
      ),
      h(
        'button',
        {
          type: 'button',
          testid: 'targeting-revert',
          onclick: () => {
            editor.value = flag.targeting === undefined ? '' : pretty(flag.targeting);
            editorError.hidden = true;
          },
        },
        'Revert',
      ),
    ),
  );

  const show = (next, nextVersion) => {
    flag = next;
    version = nextVersion;
    section.dataset.version = version || '';
    section.dataset.state = flag.state;
    const m = flag.metadata || {};

    setChildren(header, h('h2', { testid: 'flag-key' }, flag.key), h('span', { class: 'badges' }, stateBadges(flag)), h('span', { class: 'muted small', testid: 'flag-version', title: version }, `version ${shortVersion(version)}`));

    const fact = (label, value, testid) => [h('dt', {}, label), h('dd', { testid }, value ?? '')];
    setChildren(facts,
      ...fact('Flag set', flag.flagSetId || '', 'fact-flagset'),
      ...fact('Owner', m.owner || '', 'fact-owner'),
      ...fact('Description', m.description || '', 'fact-description'),
      ...fact('Created', formatTime(m.createdAt), 'fact-created'),
      ...fact('Updated', formatTime(m.updatedAt), 'fact-updated'),
      ...(isKilled(flag) ? fact('Killed', `${formatTime(m.killedAt)}${m.killedBy ? ` by ${m.killedBy}` : ''}`, 'fact-killed') : []),
      ...fact('Rollout', rolloutSplit(flag.targeting) ? describeSplit(rolloutSplit(flag.targeting)) : '', 'fact-rollout'),
    );

    setChildren(variantsTable,
      h('thead', {}, h('tr', {}, h('th', {}, 'Variant'), h('th', {}, 'Value'), h('th', {}, ''))),
      h(
        'tbody',
        {},
        Object.entries(flag.variants || {}).map(([name, value]) =>
          h('tr', { testid: 'variant-row', dataset: { variant: name } }, h('td', {}, name), h('td', {}, h('code', {}, JSON.stringify(value))), h('td', {}, name === flag.defaultVariant ? badge('default', 'default') : '')),
        ),
      ),
    );
    const names = Object.keys(flag.variants || {});
    setChildren(defaultSelect, ...names.map((n) => h('option', { value: n }, n)));
    defaultSelect.value = flag.defaultVariant ?? '';
    setChildren(ruleVariant, ...names.map((n) => h('option', { value: n }, n)));
    const pair = pairOf();
    if (pair) ruleVariant.value = pair.on;

    const archived = isArchived(flag);
    setChildren(actions,
      !archived && flag.state === 'ENABLED'
        ? h('button', { type: 'button', class: 'danger', testid: 'kill-button', onclick: () => kill() }, 'Kill switch')
        : null,
      !archived && flag.state === 'DISABLED' ? h('button', { type: 'button', testid: 'enable-button', onclick: () => write('Enable', () => api.patchFlag(flag.key, enablePatch(flag), version)) }, 'Enable') : null,
      !archived && flag.state === 'ENABLED' ? h('button', { type: 'button', testid: 'disable-button', onclick: () => write('Disable', () => api.patchFlag(flag.key, { state: 'DISABLED' }, version)) }, 'Disable') : null,
      archived
        ? h('button', { type: 'button', testid: 'restore-button', onclick: () => write('Restore', () => api.restoreFlag(flag.key, version)) }, 'Restore')
        : h('button', { type: 'button', testid: 'archive-button', onclick: () => archive() }, 'Archive'),
      h('button', { type: 'button', class: 'danger subtle', testid: 'delete-button', onclick: () => remove() }, 'Delete'),
      h('button', { type: 'button', testid: 'reload-button', onclick: () => reload() }, 'Reload'),
      h('a', { class: 'button', href: `#/audit?flag=${encodeURIComponent(flag.key)}`, testid: 'history-link' }, 'History'),
    );

    if (pair) {
      const percent = rolloutPercent(flag.targeting, pair);
      rolloutBox.hidden = false;
      slider.value = String(percent === undefined ? (flag.defaultVariant === pair.on ? 100 : 0) : Math.round(percent));
      updateSliderLabel();
      const t = flag.targeting;
      const empty = t === undefined || t === null || Object.keys(t).length === 0;
      sliderNote.textContent =
        percent !== undefined
          ? `Currently ${describeSplit(rolloutSplit(t))}.`
          : empty
            ? `No rollout yet: everyone gets "${flag.defaultVariant}".`
            : t.if
              ? 'The rollout will apply to evaluations that no rule above matches.'
              : 'Applying a rollout replaces the current targeting.';
    } else {
      rolloutBox.hidden = true;
    }

    editor.value = flag.targeting === undefined || flag.targeting === null ? '' : pretty(flag.targeting);
  };

  const kill = async () => {
    const ok = await confirmDialog(`Kill ${flag.key}?`, `Every SDK will stop serving ${flag.key} and answer with the application's coded default, within about a second. Undo with Enable.`, 'Kill it');
    if (!ok) return;
    return write('Kill switch', () => api.killFlag(flag.key));
  };
  const archive = async () => {
    const ok = await confirmDialog(`Archive ${flag.key}?`, 'The flag is disabled and hidden from the default list; restore brings it back as it was.', 'Archive');
    if (!ok) return;
    return write('Archive', () => api.archiveFlag(flag.key, version));
  };
  const remove = async () => {
    const ok = await confirmDialog(`Delete ${flag.key}?`, 'The flag is removed from the flag file; SDKs then answer FLAG_NOT_FOUND. The audit log keeps its history.', 'Delete');
    if (!ok) return;
    return write('Delete', () => api.deleteFlag(flag.key, version));
  };

  section.append(
    header,
    conflict,
    actionError,
    message,
    h(
      'div',
      { class: 'columns' },
      h(
        'div',
        {},
        facts,
        actions,
        h('h3', {}, 'Variants'),
        variantsTable,
        h(
          'div',
          { class: 'rule-row' },
          h('label', {}, 'Default variant ', defaultSelect),
          h('button', { type: 'button', testid: 'default-variant-save', onclick: () => write('Default variant', () => api.patchFlag(flag.key, { defaultVariant: defaultSelect.value }, version)) }, 'Set default'),
        ),
        rolloutBox,
        ruleBox,
      ),
      h('div', {}, editorBox),
    ),
  );
  show(flag, version);
  return section;
}

/** Turns a flag back on; after the kill switch, also drops killedAt/killedBy (merge patch: null removes). */
function enablePatch(flag) {
  const m = flag.metadata || {};
  return m.killedAt === undefined && m.killedBy === undefined ? { state: 'ENABLED' } : { state: 'ENABLED', metadata: { killedAt: null, killedBy: null } };
}

const shortVersion = (v) => (v ? String(v).replace(/^W\//, '').replace(/"/g, '').slice(0, 10) : '?');

// ------------------------------------------------------------------------------------------------
// Create a flag

const TEMPLATES = {
  boolean: { on: true, off: false },
  string: { a: 'first', b: 'second' },
  number: { low: 1, high: 10 },
  object: { a: { color: 'red' }, b: { color: 'blue' } },
};
const DEFAULTS = { boolean: 'off', string: 'a', number: 'low', object: 'a' };

function createFlagView() {
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

  const fillDefaults = (preferred) => {
    const parsed = parseJson(variants.value);
    const names = parsed.ok && parsed.value && typeof parsed.value === 'object' && !Array.isArray(parsed.value) ? Object.keys(parsed.value) : [];
    const current = preferred ?? defaultVariant.value;
    setChildren(defaultVariant, ...names.map((n) => h('option', { value: n }, n)));
    if (names.includes(current)) defaultVariant.value = current;
  };
  const applyTemplate = () => {
    variants.value = pretty(TEMPLATES[type.value]);
    fillDefaults(DEFAULTS[type.value]);
  };
  type.addEventListener('change', applyTemplate);
  variants.addEventListener('input', () => fillDefaults());
  applyTemplate();

  const fail = (text, path) => {
    setChildren(error, path ? errorPath : '', path ? ' ' : '', text);
    errorPath.textContent = path || '';
    error.hidden = false;
  };

  const form = h(
    'form',
    {
      class: 'create',
      testid: 'new-form',
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        error.hidden = true;
        const k = key.value.trim();
        if (!k) return fail('Give the flag a key.');
        const v = parseJson(variants.value);
        if (!v.ok) return fail(`Variants are not valid JSON: ${v.message}`, v.line ? `variants, line ${v.line}, column ${v.column}` : '');
        let t;
        if (targeting.value.trim()) {
          const parsed = parseJson(targeting.value);
          if (!parsed.ok) return fail(`Targeting is not valid JSON: ${parsed.message}`, parsed.line ? `targeting, line ${parsed.line}, column ${parsed.column}` : '');
          t = parsed.value;
        }
        const body = { key: k, state: state.value, variants: v.value, defaultVariant: defaultVariant.value || null };
        if (flagSet.value.trim()) body.flagSetId = flagSet.value.trim();
        if (t !== undefined) body.targeting = t;
        const metadata = {};
        if (owner.value.trim()) metadata.owner = owner.value.trim();
        if (description.value.trim()) metadata.description = description.value.trim();
        if (Object.keys(metadata).length) body.metadata = metadata;
        const submit = form.querySelector('button[type=submit]');
        submit.disabled = true;
        const res = await api.createFlag(body);
        submit.disabled = false;
        if (res.ok) {
          location.hash = flagHref(k);
          return;
        }
        const err = (res.body && res.body.error) || {};
        fail(res.status === 409 ? `A flag named ${k} exists already.` : errorText(res), err.path);
      },
    },
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
    h('div', { class: 'actions' }, h('button', { type: 'submit', testid: 'new-submit' }, 'Create flag'), h('a', { href: '#/flags', class: 'button subtle' }, 'Cancel')),
  );
  return form;
}

// ------------------------------------------------------------------------------------------------
// Audit log

/** The entries of an audit answer, whichever envelope the API uses. */
const entriesOf = (body) => (Array.isArray(body) ? body : (body && (body.entries || body.audit || body.items)) || []);

async function auditView(params, stillCurrent) {
  const filter = { flag: params.get('flag') || '', actor: params.get('actor') || '', action: params.get('action') || '', limit: params.get('limit') || '100' };
  const res = await api.audit(filter);
  if (!stillCurrent()) return null;

  const input = (name, placeholder) => h('input', { type: 'text', name, value: filter[name], placeholder, size: 14, testid: `audit-filter-${name}`, 'aria-label': name });
  const action = h(
    'select',
    { name: 'action', testid: 'audit-filter-action', 'aria-label': 'action' },
    h('option', { value: '' }, 'all actions'),
    ['create', 'update', 'delete', 'archive', 'restore', 'kill'].map((a) => h('option', { value: a }, a)),
  );
  action.value = filter.action;
  const flagInput = input('flag', 'flag key');
  const actorInput = input('actor', 'actor');
  const form = h(
    'form',
    {
      class: 'toolbar',
      testid: 'audit-filter',
      onsubmit: (e) => {
        e.preventDefault();
        const q = new URLSearchParams();
        if (flagInput.value.trim()) q.set('flag', flagInput.value.trim());
        if (actorInput.value.trim()) q.set('actor', actorInput.value.trim());
        if (action.value) q.set('action', action.value);
        location.hash = `#/audit${q.toString() ? `?${q}` : ''}`;
      },
    },
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
  const entries = entriesOf(res.body);
  // Newest first, whatever order arrived (the API promises it; sorting by seq costs nothing).
  entries.sort((a, b) => (b.seq ?? 0) - (a.seq ?? 0) || String(b.time).localeCompare(String(a.time)));
  section.append(
    h('p', { class: 'muted', testid: 'audit-count' }, `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, newest first`),
    h('ol', { class: 'audit-list', testid: 'audit-list' }, entries.map(auditEntry)),
  );
  return section;
}

function auditEntry(entry) {
  const diff = jsonDiff(entry.before ?? null, entry.after ?? null);
  const show = (v) => (v === undefined ? '(absent)' : JSON.stringify(v));
  return h(
    'li',
    { testid: 'audit-entry', dataset: { seq: entry.seq, action: entry.action, flag: entry.flag } },
    h(
      'details',
      {},
      h(
        'summary',
        {},
        h('span', { class: 'muted' }, `#${entry.seq ?? '?'} `),
        h('time', { datetime: entry.time, title: entry.time }, formatTime(entry.time)),
        ' ',
        badge(entry.action, `action-${entry.action}`, 'audit-action'),
        ' ',
        entry.flag ? h('a', { href: flagHref(entry.flag), testid: 'audit-flag' }, entry.flag) : '',
        ' by ',
        h('strong', { testid: 'audit-actor' }, entry.actor),
        h('span', { class: 'muted small' }, ` · ${diff.length} change${diff.length === 1 ? '' : 's'}`),
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
        h('div', {}, h('h4', {}, 'Before'), h('pre', { class: 'code', testid: 'audit-before' }, pretty(entry.before ?? null))),
        h('div', {}, h('h4', {}, 'After'), h('pre', { class: 'code', testid: 'audit-after' }, pretty(entry.after ?? null))),
      ),
      entry.version ? h('p', { class: 'muted small' }, `flag set version ${entry.version}`) : null,
    ),
  );
}

// ------------------------------------------------------------------------------------------------
// Stale flags

const REASONS = {
  unchanged: 'unchanged for the period',
  'single-variant': 'serves one variant to everyone',
  'not-evaluated': 'not evaluated in the period',
};

async function staleView(params, stillCurrent) {
  const days = params.get('days') || '30';
  const res = await api.stale(days);
  if (!stillCurrent()) return null;
  const daysInput = h('input', { type: 'number', min: 1, value: days, testid: 'stale-days', 'aria-label': 'days', size: 4 });
  const section = h(
    'section',
    { class: 'stale', testid: 'stale-view' },
    h(
      'form',
      {
        class: 'toolbar',
        onsubmit: (e) => {
          e.preventDefault();
          location.hash = `#/stale?days=${encodeURIComponent(daysInput.value || '30')}`;
        },
      },
      h('h2', {}, 'Stale flags'),
      h('label', {}, 'Unchanged or unused for ', daysInput, ' days'),
      h('button', { type: 'submit', testid: 'stale-apply' }, 'Show'),
    ),
  );
  if (!res.ok) {
    section.append(h('p', { class: 'error', testid: 'stale-error' }, errorText(res)));
    return section;
  }
  const body = res.body || {};
  const flags = Array.isArray(body) ? body : body.flags || body.stale || [];
  section.append(
    h('p', { class: 'muted', testid: 'stale-count' }, `${flags.length} stale flag${flags.length === 1 ? '' : 's'}`),
    h(
      'table',
      { class: 'grid', testid: 'stale-table' },
      h('thead', {}, h('tr', {}, ['Key', 'Reasons', 'Owner', 'Updated', 'Last evaluated'].map((t) => h('th', {}, t)))),
      h(
        'tbody',
        {},
        flags.map((f) => {
          const reasons = f.reasons || (f.reason ? [f.reason] : []);
          const m = f.metadata || {};
          return h(
            'tr',
            { testid: 'stale-row', dataset: { key: f.key, reasons: reasons.join(' ') } },
            h('td', {}, h('a', { href: flagHref(f.key) }, f.key)),
            h('td', { class: 'badges' }, reasons.map((r) => h('span', { class: 'badge badge-stale', title: REASONS[r] || r }, r))),
            h('td', {}, f.owner || m.owner || ''),
            h('td', {}, formatTime(f.updatedAt || m.updatedAt)),
            h('td', {}, f.lastEvaluated || f.lastEvaluatedAt ? formatTime(f.lastEvaluated || f.lastEvaluatedAt) : h('span', { class: 'muted' }, 'never')),
          );
        }),
      ),
    ),
  );
  return section;
}

// ------------------------------------------------------------------------------------------------
// Token and identity

async function refreshWhoami() {
  const el = $('whoami');
  const res = await api.whoami();
  if (res.ok && res.body) {
    el.textContent = `${res.body.actor} (${res.body.role})`;
    el.dataset.role = res.body.role;
    el.classList.remove('error');
  } else {
    el.textContent = res.status === 401 ? 'token needed' : errorText(res);
    el.dataset.role = '';
    el.classList.add('error');
  }
}

function start() {
  $('token-input').value = getToken();
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    setToken($('token-input').value.trim());
    void refreshWhoami();
    void render();
  });
  $('token-clear').addEventListener('click', () => {
    $('token-input').value = '';
    setToken('');
    void refreshWhoami();
    void render();
  });
  window.addEventListener('hashchange', () => void render());
  void refreshWhoami();
  void render().then(() => document.body.setAttribute('data-ready', 'true'));
}

start();
