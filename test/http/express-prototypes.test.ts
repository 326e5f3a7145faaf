import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { Express } from 'express';
import request from 'supertest';
import { SWAP_IS_COSTLY } from '../../src/common/http/express-adapter.js';
import { createAccount, signIn } from '../support/factories.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The app's server builds requests and responses on Express's prototypes where Express's own re-parenting is costly
 * (Node 20 and 22; docs/benchmark.md): each one reaches Express already on them, and Express's request and response
 * helpers still work.
 */
describe('requests born with Express prototypes', () => {
  let t: TestApp;
  const seen: Array<{ request: object | null; response: object | null }> = [];

  beforeAll(async () => {
    t = await startTestApp();
    (t.http as Server).prependListener('request', (req: IncomingMessage, res: ServerResponse) =>
      seen.push({ request: Object.getPrototypeOf(req), response: Object.getPrototypeOf(res) }),
    );
  });
  afterAll(async () => t.close());

  it('hands Express requests and responses it need not re-parent, on the V8 where that costs', async () => {
    const express = t.app.getHttpAdapter().getInstance() as Express;
    seen.length = 0;
    const account = await createAccount(t.dataSource);
    const session = await signIn(t, account);
    const me = await request(t.http).get('/api/me').set('Cookie', session.cookie);

    expect(me.status).toBe(200);
    expect(me.body.account.id).toBe(account.id);
    expect(me.headers['x-content-type-options']).toBe('nosniff');
    expect(seen).toHaveLength(1);
    if (SWAP_IS_COSTLY) {
      expect(seen[0]).toEqual({ request: express.request, response: express.response });
    } else {
      expect(seen[0]).toEqual({ request: IncomingMessage.prototype, response: ServerResponse.prototype });
    }
  });

  it('still parses bodies and answers refusals through Express', async () => {
    const session = await signIn(t, await createAccount(t.dataSource));
    const refused = await request(t.http)
      .post('/api/me/links')
      .set('Cookie', session.cookie)
      .set(session.writeHeaders)
      .set('Content-Type', 'application/json')
      .send('{"not json');
    expect(refused.status).toBe(400);
    expect(refused.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(refused.body.code).toBe('malformed_json');
  });
});
