import { describe, expect, it } from 'vitest';
import { FlagStore, type StoreChange } from '../src/store/flag-store.js';

const flag = (v: string) => ({ state: 'ENABLED', variants: { a: v }, defaultVariant: 'a' });

describe('FlagStore', () => {
  it('lets a later source win a key collision and keeps each flag its own set metadata', () => {
    const store = new FlagStore(['file:a.json', 'file:rawflags/b.json']);
    expect(store.ready).toBe(false);
    store.update('file:a.json', JSON.stringify({ flags: { shared: flag('from-a'), onlyA: flag('a') } }));
    expect(store.pending()).toEqual(['file:rawflags/b.json']);
    store.update('file:rawflags/b.json', JSON.stringify({ metadata: { flagSetId: 'b-set' }, flags: { shared: flag('from-b'), onlyB: flag('b') } }));
    expect(store.ready).toBe(true);
    const ev = store.evaluator();
    expect(ev.resolveString('shared', '').value).toBe('from-b');
    // b's flagSetId must not spread onto a's flags.
    expect(ev.resolveString('onlyA', '').flagMetadata).toEqual({});
    expect(ev.resolveString('onlyB', '').flagMetadata).toEqual({ flagSetId: 'b-set' });
  });

  it('serves selector views: flagSetId=, source=, and a bare source path', () => {
    const store = new FlagStore(['file:a.json', 'file:rawflags/b.json']);
    store.update('file:a.json', JSON.stringify({ flags: { onlyA: flag('a') } }));
    store.update('file:rawflags/b.json', JSON.stringify({ metadata: { flagSetId: 'b-set' }, flags: { onlyB: flag('b') } }));
    expect(store.evaluator('flagSetId=b-set').keys()).toEqual(['onlyB']);
    expect(store.evaluator('source=file:a.json').keys()).toEqual(['onlyA']);
    expect(store.evaluator('rawflags/b.json').keys()).toEqual(['onlyB']);
    expect(store.metadata('flagSetId=b-set')).toEqual({ flagSetId: 'b-set' });
    expect(JSON.parse(store.flagSetJson('rawflags/b.json')).flags.onlyB.variants).toEqual({ a: 'b' });
  });

  it('refuses a bad document whole, keeps the source last good flags, and notifies only real changes per selector', () => {
    const store = new FlagStore(['file:a.json']);
    const all: StoreChange[] = [];
    const scoped: StoreChange[] = [];
    store.subscribe((c) => all.push(c));
    store.update('file:a.json', JSON.stringify({ metadata: { flagSetId: 's' }, flags: { x: flag('1'), y: flag('2') } }));
    store.subscribe((c) => scoped.push(c), 'flagSetId=s');
    const r = store.update('file:a.json', '{"flags": {"x": {"state": "ON"}}}');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ source: 'file:a.json', code: 'INVALID_STATE', path: '$.flags.x.state' });
    expect(store.evaluator().resolveString('x', '').value).toBe('1');
    expect(store.update('file:a.json', JSON.stringify({ metadata: { flagSetId: 's' }, flags: { x: flag('1'), y: flag('2') } })).ok).toBe(true);
    store.update('file:a.json', JSON.stringify({ metadata: { flagSetId: 's' }, flags: { x: flag('changed'), z: flag('3') } }));
    expect(all.map((c) => c.changes)).toEqual([
      [
        { key: 'x', kind: 'write' },
        { key: 'y', kind: 'write' },
      ],
      [
        { key: 'z', kind: 'write' },
        { key: 'x', kind: 'update' },
        { key: 'y', kind: 'delete' },
      ],
    ]);
    expect(scoped).toHaveLength(1);
    expect(all[1].version).toBeGreaterThan(all[0].version);
  });
});
