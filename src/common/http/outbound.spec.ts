import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Agent } from 'undici';
import { outboundAgent, sendWhole } from './outbound.js';

/**
 * The transport both outbound clients share (provider calls: src/oidc/http-client.spec.ts; the SERMI access log
 * writer: test/sermi/access-log-writer.test.ts). Here: what a call sends and hands back, and how each failure reads.
 */
describe('sendWhole: one call, its answer read whole', () => {
  let server: Server;
  let base: string;
  let agent: Agent;
  const received: { method?: string; url?: string; signature?: string; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        received.push({ method: req.method, url: req.url, signature: req.headers['x-signature'] as string, body });
        if (req.url === '/slow') return; // never answers
        if (req.url === '/long') return void res.end(Buffer.alloc(2049, 0x20));
        if (req.url === '/port') return void res.end(String(req.socket.remotePort));
        res.writeHead(req.url === '/refused' ? 409 : 200, {
          'X-Answer-Signature': 'sig',
          'Content-Type': 'text/plain',
        });
        res.end(`echo:${body}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    agent = outboundAgent(30_000);
  });

  afterAll(async () => {
    await agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  // Only the timeout test has a short deadline: a loaded machine must not turn the others' answers into timeouts.
  const call = (path: string, extra: { signal?: AbortSignal; timeoutMs?: number } = {}) =>
    sendWhole(agent, new URL(path, base), {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-signature': 'batch-sig' },
      body: 'records',
      timeoutMs: extra.timeoutMs ?? 30_000,
      maxBytes: 2048,
      signal: extra.signal,
    });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error as Error & { reason: string },
    );

  it('sends method, path with query, headers and body; hands back status, headers by lower-case name, body', async () => {
    const answer = await call('/batch?v=2');
    expect(received.at(-1)).toEqual({ method: 'POST', url: '/batch?v=2', signature: 'batch-sig', body: 'records' });
    expect(answer.status).toBe(200);
    expect(answer.headers['x-answer-signature']).toBe('sig');
    expect(answer.body?.toString()).toBe('echo:records');
  });

  it('hands back an answer of any status with its body', async () => {
    const answer = await call('/refused');
    expect([answer.status, answer.body?.toString()]).toEqual([409, 'echo:records']);
  });

  it('fails as a timeout with no answer in time or when the caller gives up, naming the reason', async () => {
    expect(await failure(call('/slow', { timeoutMs: 300 }))).toMatchObject({
      name: 'OutboundFailure',
      reason: 'timeout',
    });
    const given = await failure(call('/slow', { signal: AbortSignal.abort(new Error('shutting down')) }));
    expect(given).toMatchObject({ reason: 'timeout', message: 'no answer in time: shutting down' });
    const caller = new AbortController();
    const underway = failure(call('/slow', { signal: caller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    caller.abort(new Error('the person left'));
    expect(await underway).toMatchObject({ reason: 'timeout', message: 'no answer in time: the person left' });
  });

  it('fails an answer longer than its limit, and a refused connection, saying why', async () => {
    expect(await failure(call('/long'))).toMatchObject({
      reason: 'too_large',
      message: 'answer too large: answer longer than 2048 bytes',
    });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await failure(
      sendWhole(agent, new URL(`http://127.0.0.1:${port}/`), {
        method: 'GET',
        headers: {},
        timeoutMs: 30_000,
        maxBytes: 1,
      }),
    );
    expect(refused).toMatchObject({ reason: 'network', message: expect.stringContaining('ECONNREFUSED') });
  });

  it('fails a request undici refuses (a bad header, a closed agent) the same way', async () => {
    const badHeader = sendWhole(agent, new URL('/batch', base), {
      method: 'GET',
      headers: { 'x-signature': 'a\r\nb' },
      timeoutMs: 30_000,
      maxBytes: 1,
    });
    expect(await failure(badHeader)).toMatchObject({ name: 'OutboundFailure', reason: 'network' });
    const closed = outboundAgent(30_000);
    await closed.destroy();
    const onClosed = sendWhole(closed, new URL('/batch', base), {
      method: 'GET',
      headers: {},
      timeoutMs: 30_000,
      maxBytes: 1,
    });
    expect(await failure(onClosed)).toMatchObject({ name: 'OutboundFailure', reason: 'network' });
  });

  it('keeps working after those failures', async () => {
    expect((await call('/again')).status).toBe(200);
  });

  it('keeps an idle connection no longer than keepIdleMaxMs, whatever keep-alive the server announces', async () => {
    // Node's server announces Keep-Alive: timeout=5, so an agent without a cap reuses a connection idle for 600 ms.
    const portsAround = async (agent: Agent) => {
      const port = async () => {
        const answer = await sendWhole(agent, new URL('/port', base), {
          method: 'GET',
          headers: {},
          timeoutMs: 30_000,
          maxBytes: 64,
        });
        return answer.body!.toString();
      };
      const before = [await port(), await port()];
      await new Promise((resolve) => setTimeout(resolve, 600));
      return { before, after: await port() };
    };
    const [brief, lasting] = [outboundAgent(30_000, { keepIdleMaxMs: 200 }), outboundAgent(30_000)];
    try {
      const [briefly, lastingly] = await Promise.all([portsAround(brief), portsAround(lasting)]);
      expect(briefly.before).not.toContain(briefly.after);
      expect(lastingly.before).toContain(lastingly.after);
    } finally {
      await Promise.all([brief.destroy(), lasting.destroy()]);
    }
  });
});
