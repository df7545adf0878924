// @ts-check
// The flag editor's percentage rollout: a slider over the two variants of an on/off flag, written
// as flagd's fractional (targeting.js says how it keeps rules in front of it).

import { h } from '../dom.js';
import { booleanPair, describeSplit, rolloutPercent, rolloutSplit, withRollout } from '../targeting.js';

/** @typedef {import('../types.js').EditorContext} EditorContext */
/** @typedef {import('../types.js').EditorPart} EditorPart */
/** @typedef {import('../types.js').Flag} Flag */

/**
 * What applying a rollout will do to the flag's targeting.
 * @param {Flag} flag
 * @param {number | undefined} percent the current rollout's, if it has one
 */
function noteFor(flag, percent) {
  const t = flag.targeting;
  if (percent !== undefined) return `Currently ${describeSplit(rolloutSplit(t) ?? [])}.`;
  if (t === undefined || t === null || Object.keys(t).length === 0) return `No rollout yet: everyone gets "${flag.defaultVariant}".`;
  if (t.if) return 'The rollout will apply to evaluations that no rule above matches.';
  return 'Applying a rollout replaces the current targeting.';
}

/**
 * @param {EditorContext} ctx
 * @returns {EditorPart}
 */
export function createRolloutPanel(ctx) {
  const slider = h('input', { type: 'range', min: 0, max: 100, step: 1, testid: 'rollout-slider', 'aria-label': 'rollout percentage' });
  const sliderValue = h('output', { testid: 'rollout-value' });
  const note = h('p', { class: 'muted small', testid: 'rollout-note' });
  const pairOf = () => booleanPair(ctx.flag().variants);

  const updateLabel = () => {
    const pair = pairOf();
    if (!pair) return;
    sliderValue.textContent = `${slider.value} % ${pair.on}, ${100 - Number(slider.value)} % ${pair.off}`;
  };
  slider.addEventListener('input', updateLabel);

  const apply = () => {
    const pair = pairOf();
    if (!pair) return;
    return ctx.replaceTargeting(withRollout(ctx.flag().targeting, Number(slider.value), pair), `Rollout ${slider.value} %`);
  };

  const element = h(
    'div',
    { class: 'panel', testid: 'rollout-panel' },
    h('h3', {}, 'Percentage rollout'),
    h('div', { class: 'slider-row' }, slider, sliderValue),
    note,
    h('button', { type: 'button', testid: 'rollout-apply', onclick: apply }, 'Apply rollout'),
  );

  return {
    element,
    show: (flag) => {
      const pair = booleanPair(flag.variants);
      // Only an on/off flag has a percentage to give.
      element.hidden = !pair;
      if (!pair) return;
      const percent = rolloutPercent(flag.targeting, pair);
      slider.value = String(percent === undefined ? (flag.defaultVariant === pair.on ? 100 : 0) : Math.round(percent));
      updateLabel();
      note.textContent = noteFor(flag, percent);
    },
  };
}
