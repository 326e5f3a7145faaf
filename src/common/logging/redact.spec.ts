import { describe, expect, it } from '@jest/globals';
import { redactSecrets } from './redact.js';

describe('redactSecrets', () => {
  it('masks values under secret-looking keys at any depth', () => {
    const input = {
      headers: { cookie: '__Host-rmi_session=abc', authorization: 'Bearer x', 'user-agent': 'curl' },
      body: { client_secret: 's3cret', nested: [{ access_token: 't', id_token: 'i', code_verifier: 'v', keep: 1 }] },
      password: 'p',
      state: 'st',
      code: 'authorization-code',
    };
    expect(redactSecrets(input)).toEqual({
      headers: { cookie: '[redacted]', authorization: '[redacted]', 'user-agent': 'curl' },
      body: {
        client_secret: '[redacted]',
        nested: [{ access_token: '[redacted]', id_token: '[redacted]', code_verifier: '[redacted]', keep: 1 }],
      },
      password: '[redacted]',
      state: '[redacted]',
      code: '[redacted]',
    });
  });

  it('keeps ordinary fields, including error codes under their own names', () => {
    expect(redactSecrets({ errorCode: 'validation_failed', status: 400, path: '/api/me' })).toEqual({
      errorCode: 'validation_failed',
      status: 400,
      path: '/api/me',
    });
  });

  it('logs binary data as its length, never its bytes', () => {
    const body = Buffer.from('{"access_token":"abc"}');
    expect(redactSecrets({ body, view: new Uint8Array(3), raw: new ArrayBuffer(5) })).toEqual({
      body: `[${body.length} bytes]`,
      view: '[3 bytes]',
      raw: '[5 bytes]',
    });
  });

  it('does not change the object it was given', () => {
    const input = { token: 'x' };
    redactSecrets(input);
    expect(input.token).toBe('x');
  });

  it('serialises errors without their other properties, such as bound query parameters', () => {
    const cause = new Error('socket closed');
    const error = Object.assign(new Error('duplicate key', { cause }), {
      code: '23505',
      query: 'INSERT INTO sessions (token_hash) VALUES ($1)',
      parameters: ['secret-verifier'],
    });
    expect(redactSecrets({ err: error })).toEqual({
      err: {
        type: 'Error',
        message: 'duplicate key',
        code: '23505',
        query: 'INSERT INTO sessions (token_hash) VALUES ($1)',
        stack: error.stack,
        cause: { type: 'Error', message: 'socket closed', stack: cause.stack },
      },
    });
  });

  it('stops at a fixed depth', () => {
    const deep = { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } };
    expect(JSON.stringify(redactSecrets(deep))).toContain('[truncated]');
  });
});
