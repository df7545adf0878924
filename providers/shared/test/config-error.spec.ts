import { describe, expect, it } from 'vitest';
import { ProviderConfigError, ProviderConfigErrorCode, isProviderConfigError } from '../src/index.js';

describe('ProviderConfigError', () => {
  it('starts its message with the option, carries code INVALID_OPTION, and keeps the cause', () => {
    const cause = new Error('ENOENT');
    const err = new ProviderConfigError('certPath', 'cannot read the certificate file', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'ProviderConfigError', code: ProviderConfigErrorCode.INVALID_OPTION, option: 'certPath' });
    expect(err.message).toBe('certPath: cannot read the certificate file');
    expect(err.cause).toBe(cause);
  });

  it('has no cause property when none is given', () => {
    expect('cause' in new ProviderConfigError('port', '0 is not a port')).toBe(false);
  });

  it('is recognised by the type guard across bundle copies, and nothing else is', () => {
    // A second copy of the class (another bundle) fails instanceof; the guard looks at the shape.
    const copy = Object.assign(new Error('port: bad'), { name: 'ProviderConfigError', code: 'INVALID_OPTION', option: 'port' });
    expect(isProviderConfigError(new ProviderConfigError('port', 'bad'))).toBe(true);
    expect(isProviderConfigError(copy)).toBe(true);
    for (const other of [new Error('port: bad'), { name: 'ProviderConfigError', code: 'INVALID_OPTION', option: 'port' }, 'port: bad', null]) {
      expect(isProviderConfigError(other)).toBe(false);
    }
  });
});
