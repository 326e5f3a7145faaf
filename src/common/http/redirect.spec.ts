import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { redirect } from './redirect.js';

describe('redirect', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    app.get('/to', (req, res) => redirect(res, req.query.see === 'other' ? 303 : 302, String(req.query.location)));
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const follow = (query: Record<string, string>) =>
    fetch(`${base}/to?${new URLSearchParams(query).toString()}`, {
      redirect: 'manual',
      headers: { accept: 'text/html' },
    });

  it('sends the browser on with the status asked for and no body', async () => {
    for (const [see, status] of [
      ['', 302],
      ['other', 303],
    ] as const) {
      const response = await follow({ location: '/account', see });
      expect([response.status, response.headers.get('location'), response.headers.get('content-length')]).toEqual([
        status,
        '/account',
        '0',
      ]);
      expect(await response.text()).toBe('');
    }
  });

  it('encodes the location as res.redirect does (spaces and non-ASCII percent-encoded, escapes kept)', async () => {
    const response = await follow({ location: '/pending?name=Jan de Vries&city=Zürich&x=%2F' });
    expect(response.headers.get('location')).toBe('/pending?name=Jan%20de%20Vries&city=Z%C3%BCrich&x=%2F');
  });
});
