import { createServer } from 'node:net';

/** A TCP port that was free a moment ago on 127.0.0.1 (for servers the tests and the benchmark start). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
