import { describe, expect, it } from 'vitest';
import { EnclaveError } from '@enclave/protocol';
import { initialLanguage } from '../i18n/index.ts';
import { en } from '../i18n/en.ts';
import { zhCN } from '../i18n/zh-CN.ts';
import { loginErrorKey } from './errors.ts';

describe('sign-in messages', () => {
  it('maps each failure to its message', () => {
    expect(loginErrorKey(new EnclaveError('invalid_credentials'))).toEqual({ key: 'login.invalid_credentials' });
    expect(loginErrorKey(new EnclaveError('login_throttled', 'x', { retryAfterMs: 4_100 }))).toEqual({
      key: 'login.login_throttled',
      params: { seconds: 5 },
    });
    expect(loginErrorKey(new EnclaveError('account_disabled')).key).toBe('login.account_disabled');
    expect(loginErrorKey(new EnclaveError('server_busy')).key).toBe('login.unreachable');
    expect(loginErrorKey(new TypeError('Failed to fetch')).key).toBe('login.unreachable');
  });
});

describe('languages', () => {
  it('defaults from the browser: any Chinese → zh-CN, English → en; a saved choice wins', () => {
    expect(initialLanguage(null, ['zh-TW', 'en'])).toBe('zh-CN');
    expect(initialLanguage(null, ['en-GB'])).toBe('en');
    expect(initialLanguage(null, ['fr-FR'])).toBe('zh-CN');
    expect(initialLanguage('en', ['zh-CN'])).toBe('en');
  });

  it('zh-CN translates every English string (same keys, no English left behind in long strings)', () => {
    const keys = (o: object, p = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) =>
        v && typeof v === 'object' && !Array.isArray(v) ? keys(v as object, `${p}${k}.`) : [`${p}${k}`],
      );
    expect(keys(zhCN).sort()).toEqual(keys(en).sort());
    const get = (o: object, path: string) =>
      path.split('.').reduce<unknown>((x, k) => (x as Record<string, unknown>)[k], o);
    const same = keys(en).filter((k) => {
      const v = get(en, k);
      return typeof v === 'string' && v.length > 8 && v === get(zhCN, k);
    });
    expect(same).toEqual([]);
  });
});
