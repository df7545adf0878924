import { describe, expect, it } from 'vitest';
import { compileRule } from '../src/index.js';

const semver = (left: unknown, op: string, right: unknown) => compileRule({ sem_ver: [left, op, right] })({});

describe('sem_ver', () => {
  it('orders versions by SemVer 2.0.0 precedence, pre-releases below releases', () => {
    expect(semver('1.2.3', '<', '1.10.0')).toBe(true);
    expect(semver('2.0.0-alpha', '<', '2.0.0')).toBe(true);
    expect(semver('1.0.0-alpha', '<', '1.0.0-alpha.1')).toBe(true);
    expect(semver('1.0.0-alpha.1', '<', '1.0.0-alpha.beta')).toBe(true);
    expect(semver('1.0.0-beta.2', '<', '1.0.0-beta.11')).toBe(true);
    expect(semver('1.0.0-rc.1', '<', '1.0.0')).toBe(true);
    expect(semver('1.0.0+build.5', '=', '1.0.0+build.9')).toBe(true);
    expect(semver('1.0.0', '!=', '1.0.1')).toBe(true);
    expect(semver('1.0.1', '>=', '1.0.1')).toBe(true);
    expect(semver('1.0.1', '<=', '1.0.0')).toBe(false);
  });

  it('supports ^ (same major) and ~ (same major and minor)', () => {
    expect(semver('1.9.9', '^', '1.0.0')).toBe(true);
    expect(semver('2.0.0', '^', '1.0.0')).toBe(false);
    expect(semver('1.2.9', '~', '1.2.0')).toBe(true);
    expect(semver('1.3.0', '~', '1.2.0')).toBe(false);
  });

  it('accepts a v or V prefix and partial versions, including numbers', () => {
    expect(semver('v1.0.0', '=', '1.0.0')).toBe(true);
    expect(semver('V1.0.0', '=', 'v1.0.0')).toBe(true);
    expect(semver('1', '=', '1.0.0')).toBe(true);
    expect(semver('1.2', '=', '1.2.0')).toBe(true);
    expect(semver(1, '=', '1.0.0')).toBe(true);
    expect(semver(1.5, '=', '1.5.0')).toBe(true);
  });

  it('returns null for what is not a version or not an operator', () => {
    expect(semver('not-a-version', '=', '1.0.0')).toBeNull();
    expect(semver('2.0.0.0', '=', '2.0.0')).toBeNull();
    expect(semver('01.0.0', '=', '1.0.0')).toBeNull();
    expect(semver('1.0.0', '===', '1.0.0')).toBeNull();
    expect(semver(null, '=', '1.0.0')).toBeNull();
    expect(compileRule({ sem_ver: ['1.0.0', '='] })({})).toBeNull();
    expect(compileRule({ sem_ver: [{ var: 'v' }, '>', '1.0.0'] })({ v: 'x' })).toBeNull();
    expect(compileRule({ sem_ver: [{ var: 'v' }, '>', 'junk'] })({ v: '2.0.0' })).toBeNull();
  });
});
