// @ts-check
// The flag editor's compiled plan: a progressive rollout (its steps, the one in force, a countdown
// to the next, pause / resume / abort) or a schedule (its changes, a countdown, cancel). The plan
// lives in the flag's metadata as the API wrote it; the countdown is the page's clock against the
// step times, the same times every SDK switches at.

import { api } from '../api.js';
import { h, setChildren } from '../dom.js';
import { confirmDialog } from '../widgets.js';

/** @typedef {import('../types.js').EditorContext} EditorContext */
/** @typedef {import('../types.js').EditorPart} EditorPart */
/** @typedef {import('../types.js').Flag} Flag */
/** @typedef {{ at: number, percent: number }} Step */
/** @typedef {{ at: number, serve: { variant?: string, on?: string, off?: string, percent?: number } }} Change */

/**
 * A metadata value written as JSON by the API, or undefined.
 * @param {unknown} text
 * @returns {any}
 */
function parsed(text) {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * "in 2 d 3 h", "in 4 min 5 s": the time left until `at` (Unix seconds).
 * @param {number} at
 * @param {number} nowMs
 */
export function countdown(at, nowMs) {
  let s = Math.max(0, Math.round(at - nowMs / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hh = Math.floor(s / 3600);
  s -= hh * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `in ${d} d ${hh} h`;
  if (hh > 0) return `in ${hh} h ${m} min`;
  if (m > 0) return `in ${m} min ${s} s`;
  return `in ${s} s`;
}

/** @param {number} at */
const when = (at) => new Date(at * 1000).toISOString().replace('.000Z', 'Z').replace('T', ' ');

/** @param {Change['serve']} serve */
const served = (serve) => (serve.variant !== undefined ? `"${serve.variant}" to everyone` : `${serve.percent} % "${serve.on}", the rest "${serve.off}"`);

/**
 * @param {EditorContext} ctx
 * @returns {EditorPart}
 */
export function createPlanPanel(ctx) {
  const title = h('h3', {});
  const state = h('p', { testid: 'plan-state' });
  const next = h('p', { class: 'muted', testid: 'plan-countdown' });
  const list = h('ol', { class: 'plan-steps', testid: 'plan-steps' });
  const buttons = h('div', { class: 'actions' });
  const element = h('div', { class: 'panel', testid: 'plan-panel', hidden: true }, title, state, next, list, buttons);
  /** @type {number | undefined} */
  let timer;
  /** @type {number[]} */
  let times = [];
  let nextLabel = '';

  const key = () => ctx.flag().key;
  /** @param {'pause' | 'resume' | 'abort'} action */
  const control = (action) => ctx.write(`Rollout ${action}`, () => api.rolloutAction(key(), action, ctx.version()));
  const abort = async () => {
    if (await confirmDialog(`Abort the rollout of ${key()}?`, 'Everyone goes back to the variant the rollout started from, in every SDK within about a second.', 'Abort')) return control('abort');
  };
  const cancel = async () => {
    if (await confirmDialog(`Cancel the schedule of ${key()}?`, 'The targeting the flag had before the schedule comes back.', 'Cancel schedule')) {
      return ctx.write('Cancel schedule', () => api.cancelSchedule(key(), ctx.version()));
    }
  };

  const tick = () => {
    if (!element.isConnected && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
      return;
    }
    const now = Date.now();
    const upcoming = times.find((t) => t > now / 1000);
    next.textContent = upcoming === undefined ? 'No step left: the plan is complete.' : `${nextLabel} ${countdown(upcoming, now)} (${when(upcoming)})`;
  };

  return {
    element,
    show: (flag) => {
      const meta = flag.metadata || {};
      const rollout = parsed(meta.rollout);
      const schedule = parsed(meta.schedule);
      element.hidden = !rollout && !schedule;
      times = [];
      if (rollout) {
        const status = String(meta.rolloutState ?? 'running');
        title.textContent = 'Progressive rollout';
        state.textContent = `${status}: "${rollout.on}" to a growing share, "${rollout.off}" to the rest.`;
        element.dataset.plan = 'rollout';
        element.dataset.state = status;
        const now = Date.now() / 1000;
        /** @type {Step[]} */
        const steps = rollout.steps;
        const current = steps.reduce((at, s, i) => (s.at <= now ? i : at), -1);
        setChildren(list, ...steps.map((s, i) => h('li', { class: i === current ? 'current' : '' }, `${when(s.at)}: ${s.percent} %`)));
        times = status === 'running' ? steps.map((s) => s.at) : [];
        nextLabel = 'Next step';
        setChildren(
          buttons,
          status === 'running' ? h('button', { type: 'button', testid: 'plan-pause', onclick: () => control('pause') }, 'Pause') : null,
          status === 'paused' ? h('button', { type: 'button', testid: 'plan-resume', onclick: () => control('resume') }, 'Resume') : null,
          status !== 'aborted' ? h('button', { type: 'button', class: 'danger', testid: 'plan-abort', onclick: abort }, 'Abort') : null,
        );
        if (status !== 'running') next.textContent = status === 'paused' ? `Paused since ${String(meta.rolloutPausedAt)}: the share reached is held.` : 'Aborted.';
      } else if (schedule) {
        title.textContent = 'Scheduled changes';
        state.textContent = `${Number(meta.scheduleApplied ?? 0)} of ${schedule.length} taken effect.`;
        element.dataset.plan = 'schedule';
        /** @type {Change[]} */
        const changes = schedule;
        setChildren(list, ...changes.map((c) => h('li', {}, `${when(c.at)}: ${served(c.serve)}`)));
        times = changes.map((c) => c.at);
        nextLabel = 'Next change';
        setChildren(buttons, h('button', { type: 'button', class: 'danger subtle', testid: 'plan-cancel', onclick: cancel }, 'Cancel schedule'));
      }
      if (times.length > 0) {
        tick();
        timer ??= window.setInterval(tick, 1000);
      } else if (timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
      }
    },
  };
}
