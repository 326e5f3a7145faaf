import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RoundRobinProxy {
  port: number;
  /** The instances requests go to from now on, in turn (e.g. one of them, or all). */
  route(ports: number[]): void;
  close(): Promise<void>;
}

/**
 * A load balancer on loopback for the multi-instance benchmark: each request goes to the next instance in turn over
 * keep-alive connections, headers and bodies passed through unchanged (the instances see the same Host and Origin
 * the clients sent).
 */
export async function startRoundRobinProxy(ports: number[]): Promise<RoundRobinProxy> {
  let upstreams = [...ports];
  let next = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const server: Server = createServer((req, res) => {
    const port = upstreams[next++ % upstreams.length];
    const forward = request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    route: (chosen) => {
      upstreams = [...chosen];
      next = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
