import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type SandboxHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** A sandbox's HTTP server: where it listens, and how it answers and stops, the same for every sandbox. */
export interface SandboxServer {
  server: Server;
  /** `http://localhost:<port>` (or the host it was given). */
  origin: string;
  /** Starts answering: `handle` each request; a request it fails is logged and answered by `failed`. */
  serve(name: string, handle: SandboxHandler, failed: (res: ServerResponse, error: Error) => void): void;
  /** Stops listening and drops open connections; `stop` ends what else the sandbox runs (its storage timers). */
  close(stop?: () => void): Promise<void>;
}

export async function listenSandbox(port = 0, host = '127.0.0.1'): Promise<SandboxServer> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address() as AddressInfo;
  return {
    server,
    origin: `http://${host === '127.0.0.1' ? 'localhost' : host}:${address.port}`,
    serve(name, handle, failed) {
      server.on('request', (req, res) => {
        handle(req, res).catch((error: unknown) => {
          console.error(`${name} sandbox`, error);
          if (!res.headersSent) failed(res, error as Error);
        });
      });
    },
    close: (stop) =>
      new Promise<void>((resolve) => {
        stop?.();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Holds an answer `ms` long, like a slow provider; a client that gives up first (the relying party's timeout) ends
 * the wait, as it would at a real server. True when the client is gone: there is nobody left to answer.
 */
export function answerLate(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms).unref();
    res.once('close', () => {
      clearTimeout(timer);
      resolve(!res.writableEnded);
    });
  });
}
