// @ts-check
// The flag editor's "add a targeted rule" form: one condition on a context attribute, put in front
// of the current targeting (targeting.js builds the rule).

import { h, setChildren } from '../dom.js';
import { booleanPair, buildCondition, RULE_OPERATORS, withTargetedRule } from '../targeting.js';
import { variantOptions } from '../widgets.js';

/** @typedef {import('../types.js').EditorContext} EditorContext */
/** @typedef {import('../types.js').EditorPart} EditorPart */

/**
 * @param {EditorContext} ctx
 * @returns {EditorPart}
 */
export function createRulePanel(ctx) {
  const attributeInput = h('input', { type: 'text', value: 'email', size: 12, testid: 'rule-attribute', 'aria-label': 'context attribute' });
  const operatorSelect = h(
    'select',
    { testid: 'rule-operator', 'aria-label': 'operator' },
    Object.entries(RULE_OPERATORS).map(([k, op]) => h('option', { value: k }, op.label)),
  );
  const valueInput = h('input', { type: 'text', placeholder: '@yourcompany.com', size: 20, testid: 'rule-value', 'aria-label': 'value' });
  const variantSelect = h('select', { testid: 'rule-variant', 'aria-label': 'variant' });
  const error = h('p', { class: 'error', testid: 'rule-error', hidden: true });

  const add = () => {
    error.hidden = true;
    const attribute = attributeInput.value.trim();
    const value = valueInput.value.trim();
    if (!attribute || !value) {
      error.textContent = 'Give an attribute and a value.';
      error.hidden = false;
      return;
    }
    const condition = buildCondition(attribute, operatorSelect.value, value);
    return ctx.replaceTargeting(withTargetedRule(ctx.flag().targeting, condition, variantSelect.value), `Rule ${attribute} ${RULE_OPERATORS[operatorSelect.value].label} ${value}`);
  };

  const element = h(
    'div',
    { class: 'panel', testid: 'rule-panel' },
    h('h3', {}, 'Add a targeted rule'),
    h('p', { class: 'muted small' }, 'Goes in front of the current targeting: matching evaluations get the variant, the rest go on as before.'),
    h('div', { class: 'rule-row' }, 'If ', attributeInput, operatorSelect, valueInput, ' serve ', variantSelect, h('button', { type: 'button', testid: 'rule-add', onclick: add }, 'Add rule')),
    error,
  );

  return {
    element,
    show: (flag) => {
      setChildren(variantSelect, variantOptions(Object.keys(flag.variants || {})));
      // Targeting a group is most often about turning the flag on for it.
      const pair = booleanPair(flag.variants);
      if (pair) variantSelect.value = pair.on;
    },
  };
}
