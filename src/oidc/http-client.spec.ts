import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oauth from 'oauth4webapi';
import { redactSecrets } from '../common/logging/redact.js';
import { ProviderHttpClient, ProviderResponse } from './http-client.js';

/** The error's name: undici's errors come from Node's realm, not the test's, so `instanceof` would not match. */
const nameOf = (error: unknown) => (error as Error).name;
const failureOf = async (promise: Promise<unknown>) =>
  nameOf(
    await promise.then(
      () => undefined,
      (error) => error,
    ),
  );
const thrownBy = (call: () => unknown) => {
  try {
    call();
    return undefined;
  } catch (error) {
    return nameOf(error);
  }
};

/** The same answer as undici's Response and as ProviderResponse, for reading both the same way. */
function both(status: number, headers: Record<string, string | string[]>, body: string | null) {
  const real = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [value]) real.append(name, one);
  }
  return [
    new Response(body, { status, headers: real }),
    new ProviderResponse(status, headers, body === null ? null : Buffer.from(body)),
  ] as const;
}

describe('ProviderResponse reads like the fetch Response it stands in for', () => {
  it('status, ok and headers, whatever the case of the name', () => {
    for (const status of [200, 204, 302, 400, 503]) {
      const headers = {
        'content-type': 'application/json',
        'www-authenticate': ['Bearer error="a"', 'DPoP'],
        'set-cookie': ['a=1', 'b=2'],
      };
      const [real, ours] = both(status, headers, null);
      expect([ours.status, ours.ok]).toEqual([real.status, real.ok]);
      for (const name of ['Content-Type', 'www-authenticate', 'x-missing']) {
        expect([ours.headers.get(name), ours.headers.has(name)]).toEqual([
          real.headers.get(name),
          real.headers.has(name),
        ]);
      }
      expect([...ours.headers]).toEqual([...real.headers]);
    }
  });

  it('a body read once as text or JSON, then refused; a clone reads on its own', async () => {
    const [real, ours] = both(200, { 'content-type': 'application/json' }, '{"a":"ü"}');
    expect([real.bodyUsed, ours.bodyUsed]).toEqual([false, false]);
    const [realClone, ourClone] = [real.clone(), ours.clone()];
    expect(await ours.json()).toEqual(await real.json());
    expect([real.bodyUsed, ours.bodyUsed]).toEqual([true, true]);
    expect([await failureOf(real.text()), await failureOf(ours.text())]).toEqual(['TypeError', 'TypeError']);
    expect([thrownBy(() => real.clone()), thrownBy(() => ours.clone())]).toEqual(['TypeError', 'TypeError']);
    expect(await ourClone.text()).toBe(await realClone.text());
  });

  it('no body: empty text and no body to cancel; a body cancelled counts as used', async () => {
    const [realEmpty, ourEmpty] = both(204, {}, null);
    expect([ourEmpty.body, await ourEmpty.text()]).toEqual([realEmpty.body, await realEmpty.text()]);
    expect([ourEmpty.bodyUsed, await ourEmpty.text()]).toEqual([realEmpty.bodyUsed, await realEmpty.text()]);
    const [real, ours] = both(400, {}, '{}');
    await real.body?.cancel();
    await ours.body?.cancel();
    expect(ours.bodyUsed).toBe(real.bodyUsed);
  });

  it('UTF-8 with a byte order mark reads as JSON, as fetch reads it', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"name":"Zoë"}')]);
    const real = new Response(bytes);
    const ours = new ProviderResponse(200, {}, bytes);
    expect(await ours.json()).toEqual(await real.json());
  });

  it('invalid JSON is the same SyntaxError', async () => {
    const [real, ours] = both(200, {}, '{not json');
    expect([await failureOf(real.json()), await failureOf(ours.json())]).toEqual(['SyntaxError', 'SyntaxError']);
  });

  it('logged as the cause of an error, it shows its status, never its body or headers', () => {
    const page = `<html>${'secret-looking page '.repeat(5000)}</html>`;
    const answer = new ProviderResponse(404, { 'content-type': 'text/html', 'x-request-id': 'r1' }, Buffer.from(page));
    const logged = JSON.stringify(redactSecrets(new Error('unexpected answer', { cause: answer })));
    expect(JSON.parse(logged).cause).toEqual({ status: 404, headers: {} });
  });

  it('withBody() keeps status and headers with a new body', async () => {
    const ours = new ProviderResponse(201, { 'content-type': 'application/json' }, Buffer.from('{"id_token":"jwe"}'));
    const replaced = ours.withBody('{"id_token":"jws"}');
    expect([replaced.status, replaced.headers.get('content-type'), await replaced.json()]).toEqual([
      201,
      'application/json',
      { id_token: 'jws' },
    ]);
  });
});

describe('ProviderHttpClient answers that oauth4webapi takes for a Response', () => {
  let server: Server;
  let base: string;
  const http = new ProviderHttpClient(5_000);

  beforeAll(async () => {
    server = createServer((req, res) => {
      const odd = /^\/status\/(\d{3})$/.exec(req.url ?? '');
      if (odd) {
        res.writeHead(Number(odd[1]), { 'content-type': 'text/plain' });
        res.end('odd');
      } else if (req.url === '/userinfo') {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ sub: 'person-1', name: 'Jan' }));
      } else {
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    http.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const as = (path: string): oauth.AuthorizationServer => ({ issuer: base, userinfo_endpoint: `${base}${path}` });
  const client: oauth.Client = { client_id: 'rp' };

  it('reads the claims of a user-info answer', async () => {
    const response = await http.fetch(`${base}/userinfo`);
    const claims = await oauth.processUserInfoResponse(
      as('/userinfo'),
      client,
      'person-1',
      response as unknown as Response,
    );
    expect(claims).toEqual({ sub: 'person-1', name: 'Jan' });
  });

  // undici's Response refuses these (a body with 205, a status above 599): building one threw in the socket's
  // 'end' handler, outside any promise, where a provider's odd answer could take the process down.
  it('hands on any status the provider answers with, body and all', async () => {
    for (const [status, ok] of [
      [205, true],
      [600, false],
      [999, false],
    ] as const) {
      const response = await http.fetch(`${base}/status/${status}`);
      expect([response.status, response.ok, await response.text()]).toEqual([status, ok, 'odd']);
    }
  });

  it("reads a refusal's challenge from its headers", async () => {
    const response = await http.fetch(`${base}/refused`);
    const failure = oauth
      .processUserInfoResponse(as('/refused'), client, 'person-1', response as unknown as Response)
      .catch((error: unknown) => error);
    expect(await failure).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    expect(((await failure) as oauth.WWWAuthenticateChallengeError).cause[0]).toMatchObject({
      scheme: 'bearer',
      parameters: { error: 'invalid_token' },
    });
  });
});

describe('ProviderHttpClient: what reaches the provider, and when it gives up', () => {
  let server: Server;
  let base: string;
  const received: { method?: string; url?: string; contentType?: string; body: string }[] = [];
  // Only the timeout test may time out: a loaded machine must not turn the others' answers into timeouts.
  const http = new ProviderHttpClient(30_000);
  const impatient = new ProviderHttpClient(300);

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({
          method: req.method,
          url: req.url,
          contentType: req.headers['content-type'],
          body: Buffer.concat(chunks).toString(),
        });
        if (req.url === '/slow') return; // never answers
        if (req.url === '/stalls-mid-body') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"a":');
          return;
        }
        if (req.url === '/huge') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(Buffer.alloc(1024 * 1024 + 1, 0x20));
          return;
        }
        if (req.url === '/empty') {
          res.writeHead(204);
          res.end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    http.close();
    impatient.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error as { name: string; reason?: string },
    );

  it('sends the method, path with query, and a form body with its media type', async () => {
    const response = await http.fetch(`${base}/token?x=1`, {
      method: 'POST',
      headers: new Headers({ accept: 'application/json' }),
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'c 1' }),
    });
    expect(await response.json()).toEqual({ ok: true });
    expect([...response.headers].filter(([name]) => name === 'set-cookie')).toEqual([
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
    expect(received.at(-1)).toEqual({
      method: 'POST',
      url: '/token?x=1',
      contentType: 'application/x-www-form-urlencoded;charset=UTF-8',
      body: 'grant_type=authorization_code&code=c+1',
    });
  });

  it('gives a 204 no body', async () => {
    const response = await http.fetch(`${base}/empty`);
    expect([response.status, response.body, await response.text()]).toEqual([204, null, '']);
  });

  it('gives up on a provider that does not answer, or stops halfway, as a timeout', async () => {
    for (const path of ['/slow', '/stalls-mid-body']) {
      expect(await failure(impatient.fetch(`${base}${path}`))).toMatchObject({
        name: 'ProviderUnreachableError',
        reason: 'timeout',
      });
    }
  });

  it('gives up when the caller aborts, as a timeout', async () => {
    expect(await failure(http.fetch(`${base}/slow`, { signal: AbortSignal.timeout(20) }))).toMatchObject({
      name: 'ProviderUnreachableError',
      reason: 'timeout',
    });
  });

  it('refuses an answer above 1 MiB as too large, not as unreachable', async () => {
    expect(await failure(http.fetch(`${base}/huge`))).toMatchObject({
      name: 'ProviderAnswerTooLargeError',
      message: expect.stringContaining('more than 1048576 bytes'),
    });
  });

  it('reports a provider that refuses the connection as unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await failure(http.fetch(`http://127.0.0.1:${port}/`))).toMatchObject({
      name: 'ProviderUnreachableError',
      reason: 'network',
    });
  });

  it('keeps working after each of those failures', async () => {
    const response = await http.fetch(`${base}/after`);
    expect(response.status).toBe(200);
  });
});
