import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppException } from '../problem/app-exception.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../problem/problem-details.js';

/**
 * A request Node cannot parse — headers over its limit (a browser's cookie jar grown too large), a malformed request
 * line or header — never reaches Express, and Node answers it with a bare 400 or 431. Here it gets the problem
 * document of every other refusal, with a request id to quote. As Node's own handler: only on a connection nothing
 * was written to yet (else the answer would land inside an earlier response), and the connection closes; a request
 * that took too long to send still gets Node's 408.
 */
export function answerUnparsableRequests(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const untouched = socket.writable && (socket as Duplex & { bytesWritten?: number }).bytesWritten === 0;
    if (!untouched || error.code === 'ECONNRESET') return void socket.destroy();
    const close = () => socket.destroy();
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      return void socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n', close);
    }
    const failure =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? new AppException('request_headers_too_large', 'The request headers, cookies included, are too large')
        : error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
          ? new AppException('payload_too_large', 'The chunk extensions of the request body are too large')
          : new AppException('malformed_request', 'The request is not valid HTTP');
    const requestId = randomUUID();
    const { instance: _, ...problem } = toProblem(failure, '', requestId);
    const body = JSON.stringify(problem);
    socket.end(
      [
        `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status]}`,
        `Content-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
        `Content-Length: ${Buffer.byteLength(body)}`,
        `X-Request-Id: ${requestId}`,
        'Cache-Control: no-store',
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
      close,
    );
  });
}
