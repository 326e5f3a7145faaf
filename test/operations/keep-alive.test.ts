import { afterEach, describe, expect, it } from '@jest/globals';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/app/app.config.js';
import { freePort } from '../support/free-port.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** One keep-alive connection as a proxy holds it: requests one after another, idle in between. */
class ProxyConnection {
  private received = '';
  private waiter?: () => void;
  readonly closed: Promise<number>;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.received += chunk;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve(performance.now())));
    socket.on('close', () => this.waiter?.());
  }

  static open(port: number): Promise<ProxyConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new ProxyConnection(socket)));
      socket.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return !this.socket.destroyed && this.socket.readyState === 'open';
  }

  /** Sends one request on this connection; resolves with its status, or null when the server had closed it. */
  async get(path: string): Promise<number | null> {
    if (!this.isOpen) return null;
    this.received = '';
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: portal.test\r\nConnection: keep-alive\r\n\r\n`);
    for (;;) {
      const head = this.received.indexOf('\r\n\r\n');
      if (head >= 0) {
        const length = Number(/content-length: (\d+)/i.exec(this.received.slice(0, head))?.[1] ?? 0);
        if (this.received.length >= head + 4 + length) return Number(this.received.slice(9, 12));
      }
      if (!this.isOpen) return null;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('idle keep-alive connections', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('stay open longer than the 60 s idle timeout of common proxies by default', () => {
    const { http } = loadConfig({}).operations;
    expect(http.keepAliveTimeoutMs).toBe(65_000);
    expect(http.headersTimeoutMs).toBeGreaterThan(http.keepAliveTimeoutMs);
    expect(http.requestTimeoutMs).toBeGreaterThanOrEqual(http.headersTimeoutMs);
  });

  it('carry the next request after an idle time shorter than HTTP_KEEP_ALIVE_TIMEOUT_MS; the server closes them only after it', async () => {
    const port = await freePort();
    t = await startTestApp({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '3000', HTTP_HEADERS_TIMEOUT_MS: '4000' }, { listen: port });
    const server = t.http as import('node:http').Server;
    expect([server.keepAliveTimeout, server.headersTimeout, server.requestTimeout]).toEqual([3000, 4000, 120_000]);

    const proxy = await ProxyConnection.open(port);
    try {
      expect(await proxy.get('/health')).toBe(200);
      // Longer than Node's default would have mattered at scale (5 s), shorter than the configured timeout.
      await sleep(300);
      expect(proxy.isOpen).toBe(true);
      // Before the request: the server's idle timer starts after its answer, so it cannot close sooner than this.
      const sentAt = performance.now();
      expect(await proxy.get('/health')).toBe(200);
      const closedAt = await proxy.closed;
      expect(closedAt - sentAt).toBeGreaterThanOrEqual(2950);
    } finally {
      proxy.close();
    }
  });

  it('are closed under a proxy that keeps them idle longer than HTTP_KEEP_ALIVE_TIMEOUT_MS (the failure the setting prevents)', async () => {
    const port = await freePort();
    t = await startTestApp({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '100' }, { listen: port });
    const proxy = await ProxyConnection.open(port);
    try {
      expect(await proxy.get('/health')).toBe(200);
      await proxy.closed;
      // The proxy's next request on this connection has nowhere to go: a 502 for its client.
      expect(await proxy.get('/health')).toBeNull();
    } finally {
      proxy.close();
    }
  });
});
