import { describe, expect, it } from 'vitest';
import { hintFromContentType, hintFromPath, toJsonText } from '../src/sources/shared/content.js';

describe('source content conversion', () => {
  it('passes JSON through untouched (minus a byte-order mark)', () => {
    expect(toJsonText('{ "flags": {} }', 'json')).toEqual({ ok: true, json: '{ "flags": {} }' });
    expect(toJsonText('\uFEFF{"flags":{}}', 'auto')).toEqual({ ok: true, json: '{"flags":{}}' });
  });

  it('converts YAML mappings to JSON text', () => {
    expect(toJsonText('flags:\n  a: {state: ENABLED}\n', 'yaml')).toEqual({ ok: true, json: '{"flags":{"a":{"state":"ENABLED"}}}' });
    expect(toJsonText('flags: {}', 'auto')).toEqual({ ok: true, json: '{"flags":{}}' });
    expect(toJsonText('{"flags": {}}', 'yaml')).toEqual({ ok: true, json: '{"flags":{}}' });
    // YAML 1.2 core schema: no timestamps, "on" stays a string key
    expect(toJsonText('a: 2024-01-01\non: 1\n', 'yaml')).toEqual({ ok: true, json: '{"a":"2024-01-01","on":1}' });
  });

  it('refuses what cannot be a document', () => {
    for (const [text, hint] of [
      ['', 'auto'],
      ['', 'yaml'],
      ['   \n', 'json'],
      ['hello world', 'auto'],
      ['<html>502</html>', 'auto'],
      ['- a\n- b\n', 'yaml'],
      ['flags: [unclosed', 'yaml'],
      ['{"a": 1,}', 'json'],
      ['a: 1\n---\nb: 2\n', 'yaml'],
    ] as const) {
      const result = toJsonText(text, hint);
      expect(result.ok, `${hint} ${JSON.stringify(text)}`).toBe(false);
    }
  });

  it('takes hints from paths and content types', () => {
    expect(hintFromPath('/a/flags.YAML')).toBe('yaml');
    expect(hintFromPath('flags.yml')).toBe('yaml');
    expect(hintFromPath('flags.json')).toBe('json');
    expect(hintFromPath('flags')).toBe('auto');
    expect(hintFromContentType('application/yaml; charset=utf-8')).toBe('yaml');
    expect(hintFromContentType('text/yaml')).toBe('yaml');
    expect(hintFromContentType('application/x-yaml')).toBe('yaml');
    expect(hintFromContentType('application/json')).toBe('json');
    expect(hintFromContentType('application/vnd.flags+json')).toBe('json');
    expect(hintFromContentType('text/plain')).toBeUndefined();
    expect(hintFromContentType(null)).toBeUndefined();
  });
});
