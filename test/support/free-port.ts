import { createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago on 127.0.0.1 (for servers the tests and the benchmark start). Chosen below
 * Linux's ephemeral range (32768–60999): a port the kernel hands out for listen(0) is also one it hands out for
 * outgoing connections, and under load a database or HTTP client connection took one before its server started.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt += 1) {
    const candidate = 15_000 + Math.floor(Math.random() * 17_000);
    if (await isFree(candidate)) return candidate;
    if (attempt > 50) throw new Error('no free TCP port between 15000 and 32000 on 127.0.0.1');
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
