import { describe, expect, it } from '@jest/globals';
import { createServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { answerUnparsableRequests } from '../../src/common/http/unparsable-requests.js';
import { eventually } from '../support/eventually.js';

/** A server with the app's answer to requests Node cannot parse, on a free port. */
async function serverWith(handler: RequestListener, options: ServerOptions = {}): Promise<Server> {
  const server = createServer(options, handler);
  answerUnparsableRequests(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return server;
}

/** Sends `first`; once its answer begins, `then` on the same connection. Everything the server sent, on close. */
function conversation(server: Server, first: string, then: string): Promise<string> {
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  let answer = '';
  socket.on('error', () => undefined);
  socket.on('data', (chunk) => {
    if (answer === '') socket.write(then);
    answer += chunk.toString();
  });
  socket.write(first);
  return new Promise((resolve) => socket.on('close', () => resolve(answer)));
}

const MALFORMED = 'GET /x HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n';

/** The problem+json answer itself is tested on the app: test/http/errors.test.ts. */
describe('answering a request Node cannot parse', () => {
  it('writes nothing into a response already under way on that connection, and closes it', async () => {
    const server = await serverWith((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '10' });
      res.write('part1');
      setTimeout(() => res.end('part2'), 300);
    });
    try {
      const answer = await conversation(server, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', MALFORMED);
      expect(answer).toMatch(/^HTTP\/1.1 200 OK\r\n/);
      expect(answer).not.toContain('HTTP/1.1 400');
    } finally {
      server.close();
    }
  });

  it('closes the connection after its answer, also to a client that keeps its side open', async () => {
    const server = await serverWith((_req, res) => res.end());
    try {
      const socket = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.write(MALFORMED);
      await eventually(() => answer.includes('"code":"malformed_request"'));
      await eventually(
        async () => (await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)))) === 0,
      );
      socket.destroy();
    } finally {
      server.close();
    }
  });

  it("keeps Node's 413 for chunk extensions over its limit, as a problem", async () => {
    const server = await serverWith((req, res) => {
      req.resume();
      req.on('end', () => res.end());
    });
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.on('error', () => undefined);
      socket.write(
        `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;${'a'.repeat(20_000)}\r\nhello\r\n`,
      );
      await eventually(() => answer.includes('"code":"payload_too_large"'));
      expect(answer).toMatch(/^HTTP\/1.1 413 /);
      socket.destroy();
    } finally {
      server.close();
    }
  });

  it("keeps Node's 408 for a request whose headers never finish, and closes the connection", async () => {
    const server = await serverWith((_req, res) => res.end(), {
      headersTimeout: 200,
      requestTimeout: 400,
      connectionsCheckingInterval: 50,
    });
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.on('error', () => undefined);
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
      await closed;
      expect(answer).toBe('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
    } finally {
      server.close();
    }
  });
});
