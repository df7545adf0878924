/**
 * The official @openfeature/flagd-web-provider (Connect JSON over fetch: v1 ResolveAll and
 * EventStream) against the real daemon process.
 */
import { FlagdWebProvider } from '@openfeature/flagd-web-provider';
import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startDaemon, type DaemonProcess } from './support/daemon-process.js';

const doc = (headline: string) => ({
  flags: {
    headline: { state: 'ENABLED', variants: { a: headline, b: 'B' }, defaultVariant: 'a' },
    beta: {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: { if: [{ ends_with: [{ var: 'email' }, '@vexil.dev'] }, 'on', null] },
    },
  },
});

describe('official flagd web provider against the daemon', () => {
  let dir: string;
  let file: string;
  let d: DaemonProcess;
  const write = (x: unknown) => {
    writeFileSync(`${file}.tmp`, JSON.stringify(x));
    renameSync(`${file}.tmp`, file);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vexil-web-'));
    file = join(dir, 'flags.json');
    write(doc('Hello'));
    d = await startDaemon(['-f', `file:${file}`, '-C', '*']);
  });
  afterAll(async () => {
    await OpenFeature.close();
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('evaluates from ResolveAll, re-evaluates on context change, and follows configuration changes', async () => {
    await OpenFeature.setContext({ email: 'ann@example.com' });
    await OpenFeature.setProviderAndWait(new FlagdWebProvider({ host: '127.0.0.1', port: d.ports.evaluation, tls: false, maxRetries: 3 }));
    const client = OpenFeature.getClient();
    expect(client.getStringValue('headline', 'x')).toBe('Hello');
    expect(client.getBooleanDetails('beta', true)).toMatchObject({ value: false, reason: 'DEFAULT' });

    await OpenFeature.setContext({ email: 'ann@vexil.dev' });
    expect(client.getBooleanDetails('beta', false)).toMatchObject({ value: true, variant: 'on', reason: 'TARGETING_MATCH' });

    let changed = 0;
    client.addHandler(ProviderEvents.ConfigurationChanged, () => changed++);
    write(doc('Changed'));
    await eventually(() => client.getStringValue('headline', 'x') === 'Changed', 5_000);
    expect(changed).toBeGreaterThan(0);
  });
});
