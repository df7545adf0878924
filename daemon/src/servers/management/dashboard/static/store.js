// @ts-check
// What the page keeps between renderings of its views. One instance, made by app.js and handed to
// the views that need it, rather than state at module level.

/** @typedef {import('./types.js').Store} Store */

/** @returns {Store} */
export function createStore() {
  return {
    // The list's filter survives a visit to a flag and back.
    listFilter: { q: '', state: '', flagSet: '' },
    // Every flag set seen in a list answer, so the filter keeps offering one that filters to nothing.
    knownFlagSets: new Set(),
  };
}
