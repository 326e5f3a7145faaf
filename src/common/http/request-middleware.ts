import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { AppException } from '../problem/app-exception.js';
import { acceptOrCreateRequestId, setRequestId } from '../request-context/request-context.js';

/**
 * First middleware of every request: adopts or creates the request id, echoes it, keeps it on the request (for the
 * audit events and log records the request writes) and writes one access-log line at the end.
 * Only the path is logged, never the query string: OIDC callbacks carry codes and state there.
 */
export function requestContextMiddleware(logger: Logger, countResponse: (status: number) => void = () => undefined) {
  return (req: Request, res: Response, next: NextFunction) => {
    const requestId = acceptOrCreateRequestId(req.headers['x-request-id']);
    const startedAt = performance.now();
    res.setHeader('X-Request-Id', requestId);
    setRequestId(req, requestId, startedAt);
    // Express 5 parses the query string again on every read of req.query (a login callback reads it six times).
    Object.defineProperty(req, 'query', { value: req.query, writable: true, enumerable: true, configurable: true });
    // 'close' rather than 'finish', so a request the client abandoned is logged too.
    res.once('close', () => {
      const status = res.statusCode;
      countResponse(status);
      const aborted = !res.writableFinished;
      // A client's 4xx (a stale link, a favicon, a refused login) is ordinary traffic, not a warning; a 502 or 503 says
      // a provider or the database is down or slow: expected during an outage, a warning.
      const level =
        (status >= 500 && status !== 502 && status !== 503) || aborted ? 'error' : status >= 500 ? 'warn' : 'info';
      // req.path and req.ip are computed on each read: not for a line the log level drops.
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          requestId,
          method: req.method,
          path: req.path,
          status,
          durationMs: performance.now() - startedAt,
          ip: req.ip,
          ...(aborted ? { aborted } : {}),
        },
        aborted ? 'request aborted' : 'request completed',
      );
    });
    next();
  };
}

const JSON_TYPE = /^application\/([a-z0-9.+-]+\+)?json$/i;

/** A path as Express routes it (non-strict routing: a trailing slash reaches the same route). */
export const routedPath = (path: string) => (path.length > 1 ? path.replace(/\/+$/, '') : path);

/** A route that also takes a body in another media type (the RMI item import takes CSV). */
export interface OtherBodyType {
  method: string;
  /** The exact path, or a pattern for a group of routes (the backend's own pages). */
  path: string | RegExp;
  mediaType: string;
}

/**
 * A request that carries a body must say it is JSON, or be one of the few exact method + path pairs listed in
 * `others` with their media type; anything else is refused before it is parsed.
 */
export function requireJsonBodies(others: readonly OtherBodyType[] = []) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody) return next();
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim();
    if (JSON_TYPE.test(mediaType)) return next();
    const path = routedPath(req.path);
    const matching = others.filter(
      (o) => o.method === req.method && (typeof o.path === 'string' ? o.path === path : o.path.test(path)),
    );
    if (matching.some((o) => o.mediaType === mediaType.toLowerCase())) return next();
    const other = matching[0];
    next(
      new AppException(
        'unsupported_media_type',
        `Request bodies must be application/json${other ? ` or ${other.mediaType}` : ''}`,
      ),
    );
  };
}
