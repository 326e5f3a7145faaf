import { describe, expect, it } from '@jest/globals';
import { checkAuthenticationUrl } from './authentication-url.js';

const signicat = new URL('https://api.signicat.com');
const sandbox = new URL('http://localhost:3003');

describe('checkAuthenticationUrl', () => {
  it.each([
    ['https://api.signicat.com/broker/sp/external-service/login?messageId=1', signicat, false],
    ['https://rmi-portal.app.signicat.com/broker/sp/external-service/login?messageId=1', signicat, false],
    ['http://localhost:3003/authenticate/abc', sandbox, true],
  ])('accepts %s', (value, base, allowHttp) => {
    expect(checkAuthenticationUrl(value, base, allowHttp).href).toBe(value);
  });

  it.each([
    ['http://rmi-portal.app.signicat.com/login', signicat, false],
    ['https://evil.example/login', signicat, false],
    ['https://signicat.com.evil.example/login', signicat, false],
    ['https://evilsignicat.com/login', signicat, false],
    ['https://user:pw@api.signicat.com/login', signicat, false],
    ['https://api.signicat.com:8443/login', signicat, false],
    ['javascript:alert(1)', signicat, false],
    ['http://localhost:3004/authenticate/abc', sandbox, true],
    ['http://127.0.0.1:3003/authenticate/abc', sandbox, true],
  ])('refuses %s as provider_misconfigured', (value, base, allowHttp) => {
    expect(() => checkAuthenticationUrl(value, base, allowHttp)).toThrow(
      expect.objectContaining({ code: 'provider_misconfigured' }),
    );
  });

  it('accepts only the configured hosts when SIGNICAT_EHERKENNING_AUTHENTICATION_HOSTS is set', () => {
    const hosts = ['login.portal.example', 'id.portal.example:8443'];
    const check = (value: string) => checkAuthenticationUrl(value, signicat, false, hosts);
    expect(check('https://login.portal.example/broker/x').host).toBe('login.portal.example');
    expect(check('https://id.portal.example:8443/broker/x').host).toBe('id.portal.example:8443');
    for (const value of [
      'https://api.signicat.com/broker/x',
      'https://rmi-portal.app.signicat.com/broker/x',
      'https://id.portal.example/broker/x',
      'https://evil.login.portal.example/broker/x',
    ]) {
      expect(() => check(value)).toThrow(expect.objectContaining({ code: 'provider_misconfigured' }));
    }
  });

  it('refuses something that is not a URL as provider_error', () => {
    expect(() => checkAuthenticationUrl('/relative', signicat, false)).toThrow(
      expect.objectContaining({ code: 'provider_error' }),
    );
  });
});
