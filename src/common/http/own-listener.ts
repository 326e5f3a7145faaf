import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A listener of its own next to the public one (metrics, the access log writer): on a port the load balancer does not
 * route to, with the app's keep-alive timeout. Resolves once it listens; a taken port rejects.
 */
export async function listenOnOwnPort(
  settings: { port: number; host: string; keepAliveTimeoutMs: number; requestTimeoutMs?: number },
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<Server> {
  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = settings.keepAliveTimeoutMs;
  if (settings.requestTimeoutMs !== undefined) {
    server.requestTimeout = settings.requestTimeoutMs;
    server.headersTimeout = settings.requestTimeoutMs;
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  return server;
}

/**
 * Stops a listener: `active: 'drop'` cuts requests under way (a scrape), `'finish'` lets them be answered first and
 * closes only idle connections.
 */
export function closeOwnListener(server: Server | undefined, active: 'drop' | 'finish'): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    if (active === 'drop') server.closeAllConnections();
    else server.closeIdleConnections();
  });
}

/** A request's or an answer's whole body, refused with `tooLarge()` as soon as it exceeds `maxBytes`. */
export async function readLimited(
  stream: AsyncIterable<unknown>,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A short plain-text answer. */
export function answerText(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(text.endsWith('\n') ? text : `${text}\n`);
}
