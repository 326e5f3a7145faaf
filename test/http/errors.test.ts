import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createAdmin, createAccount, signIn } from '../support/factories.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

function expectProblem(res: request.Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  expect(res.body).toMatchObject({
    type: `urn:rmi-identity:problem:${code}`,
    title: expect.any(String),
    status,
    code,
    requestId: res.headers['x-request-id'],
  });
}

describe('HTTP errors, request ids and headers', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ BODY_LIMIT_BYTES: '2048' });
  });
  afterAll(async () => t.close());

  it('answers an unknown route with 404 problem+json', async () => {
    const res = await request(t.http).get('/api/does-not-exist');
    expectProblem(res, 404, 'not_found');
    expect(res.body.instance).toBe('/api/does-not-exist');
  });

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    const res = await request(t.http).delete('/api/me');
    expectProblem(res, 405, 'method_not_allowed');
    expect(res.headers.allow).toBe('GET, HEAD');
    const patchOnly = await request(t.http).put('/api/admin/accounts/8b4a5f0e-2b7b-4f39-9a38-2d0c9f6f4a11');
    expect(patchOnly.headers.allow).toBe('GET, HEAD, PATCH');
  });

  it('answers malformed JSON with 400 malformed_json', async () => {
    const { session } = await createAdmin(t);
    const target = await createAccount(t.dataSource);
    const res = await request(t.http)
      .patch(`/api/admin/accounts/${target.id}`)
      .set('Cookie', session.cookie)
      .set(session.writeHeaders)
      .set('Content-Type', 'application/json')
      .send('{"status": "disabled"');
    expectProblem(res, 400, 'malformed_json');
  });

  it('answers a body over the limit with 413 before reading it all', async () => {
    const res = await request(t.http)
      .post('/auth/logout')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ pad: 'x'.repeat(10_000) }));
    expectProblem(res, 413, 'payload_too_large');
  });

  it('shows a browser an error page outside the API (an unknown address), with the code and request id', async () => {
    const page = await request(t.http).get('/no-such-page').set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8');
    expect(page.status).toBe(404);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.text).toContain('<code>not_found</code>');
    expect(page.text).toContain(page.headers['x-request-id']);
    expectProblem(await request(t.http).get('/no-such-page'), 404, 'not_found');
    const api = await request(t.http).get('/api/no-such-thing').set('Accept', 'text/html');
    expectProblem(api, 404, 'not_found');
    // Express matches routes whatever their case: /API/me is the API too, and answers as the API.
    for (const [path, status, code] of [
      ['/API/me', 401, 'unauthenticated'],
      ['/Api/admin/accounts', 401, 'unauthenticated'],
      ['/API/no-such-thing', 404, 'not_found'],
    ] as const) {
      expectProblem(await request(t.http).get(path).set('Accept', 'text/html'), status, code);
    }
  });

  it('answers what Node cannot parse with problem+json too, and closes the connection', async () => {
    const server = t.http.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () => socket.end(text));
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk.toString()));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    try {
      const cases = [
        [
          `GET /api/me HTTP/1.1\r\nHost: x\r\nCookie: a=${'a'.repeat(20_000)}\r\n\r\n`,
          431,
          'request_headers_too_large',
        ],
        ['GET /api/me HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n', 400, 'malformed_request'],
      ] as const;
      for (const [text, status, code] of cases) {
        const answer = await raw(text);
        const [head, body] = answer.split('\r\n\r\n');
        expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
        expect(head).toMatch(/\r\nContent-Type: application\/problem\+json; charset=utf-8\r\n/);
        expect(head).toMatch(/\r\nConnection: close(\r\n|$)/);
        const requestId = /\r\nX-Request-Id: ([0-9a-f-]{36})/.exec(head)?.[1];
        expect(JSON.parse(body)).toEqual({
          type: `urn:rmi-identity:problem:${code}`,
          title: expect.any(String),
          status,
          detail: expect.any(String),
          code,
          requestId,
        });
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('answers a non-JSON body with 415', async () => {
    const res = await request(t.http).post('/auth/logout').set('Content-Type', 'text/plain').send('hello');
    expectProblem(res, 415, 'unsupported_media_type');
    // Form posts are for the backend's own pages (and signing out from them) only.
    const form = await request(t.http).post('/api/me/sessions/revoke-others').type('form').send({ a: 1 });
    expectProblem(form, 415, 'unsupported_media_type');
  });

  it('answers a JSON body that is not an object with 400 and changes nothing', async () => {
    const { session } = await createAdmin(t);
    const target = await createAccount(t.dataSource);
    const patch = (body: string) =>
      request(t.http)
        .patch(`/api/admin/accounts/${target.id}`)
        .set('Cookie', session.cookie)
        .set(session.writeHeaders)
        .set('Content-Type', 'application/json')
        .send(body);
    expectProblem(await patch('[{"status":"disabled"}]'), 400, 'validation_failed');
    expectProblem(await patch('"disabled"'), 400, 'malformed_json');
    expectProblem(await patch('null'), 400, 'malformed_json');
    const [row] = await t.dataSource.query(`SELECT status FROM accounts WHERE id = $1`, [target.id]);
    expect(row.status).toBe('active');
  });

  it('refuses query parameters and bodies on routes that take none', async () => {
    const { session } = await createAdmin(t);
    const query = await request(t.http).get('/api/me?foo=1').set('Cookie', session.cookie);
    expect([query.status, query.body.errors]).toEqual([400, [expect.objectContaining({ field: 'foo' })]]);
    const body = await request(t.http)
      .post('/api/admin/audit-events/verify')
      .set('Cookie', session.cookie)
      .set(session.writeHeaders)
      .send({ fast: true });
    expect([body.status, body.body.code]).toEqual([400, 'validation_failed']);
    // An empty JSON object is what a client sends for "nothing"; an empty array is a body of another shape.
    const verify = (payload: object) =>
      request(t.http)
        .post('/api/admin/audit-events/verify')
        .set('Cookie', session.cookie)
        .set(session.writeHeaders)
        .send(payload);
    const array = await verify([]);
    expect([array.status, array.body.errors]).toEqual([400, [expect.objectContaining({ rule: 'noBody' })]]);
    expect((await verify({})).status).toBe(200);
    expect((await request(t.http).get('/health?x=1')).status).toBe(400);
  });

  it('authenticates before it looks at undeclared input: no session is a 401, whatever the query', async () => {
    const res = await request(t.http).get('/api/me?foo=1');
    expectProblem(res, 401, 'unauthenticated');
  });

  it('uses a sane incoming X-Request-Id and replaces an insane one', async () => {
    const kept = await request(t.http).get('/health').set('X-Request-Id', 'edge-4f1c2a9b-0001');
    expect(kept.headers['x-request-id']).toBe('edge-4f1c2a9b-0001');
    const replaced = await request(t.http).get('/health').set('X-Request-Id', 'x\ty');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const generated = await request(t.http).get('/health');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.headers['x-request-id']).not.toBe(replaced.headers['x-request-id']);
  });

  it('sends security headers and no framework fingerprint', async () => {
    const res = await request(t.http).get('/health');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('logs one line per request with its request id, and never the cookie, token or query string (even when refusing it)', async () => {
    const user = await signIn(t, await createAccount(t.dataSource));
    const res = await request(t.http)
      .get('/api/me?code=secret-code&state=secret-state')
      .set('Cookie', user.cookie)
      .set('X-Request-Id', 'trace-logging-0001');
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['code', 'state']);
    const line = t.logs.lines.find((l) => l.requestId === 'trace-logging-0001' && l.msg === 'request completed');
    expect(line).toMatchObject({ method: 'GET', path: '/api/me', status: 400, level: 'info' });
    const text = t.logs.text();
    expect(text).not.toContain(user.token);
    expect(text).not.toContain('secret-code');
    expect(text).not.toContain(user.csrfToken);
  });
});

describe('unexpected failures', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('answer 500 with no internals in the body and the full error in the log', async () => {
    const user = await signIn(t, await createAccount(t.dataSource));
    await t.dataSource.query(`ALTER TABLE sessions RENAME COLUMN auth_context TO auth_context_renamed`);
    const res = await request(t.http)
      .get('/api/me')
      .set('Cookie', user.cookie)
      .set('X-Request-Id', 'trace-failure-0001');
    expectProblem(res, 500, 'internal_error');
    expect(Object.keys(res.body).sort()).toEqual(['code', 'instance', 'requestId', 'status', 'title', 'type']);
    expect(JSON.stringify(res.body)).not.toMatch(/auth_context|sessions|SELECT|stack/i);
    const logged = t.logs.lines.find((l) => l.requestId === 'trace-failure-0001' && l.msg === 'request failed') as {
      err: { message: string; stack: string };
    };
    expect(logged.err.message).toContain('auth_context');
    expect(logged.err.stack).toMatch(/at /);
    expect(t.logs.text()).not.toContain(user.token);
  });
});
