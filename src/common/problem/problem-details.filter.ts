import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { AppException } from './app-exception.js';
import { classifyUnexpected, outageCause } from './classify-unexpected.js';
import { reportOutage } from '../logging/fault-log.js';
import { ERROR_STATUS, type ErrorCode } from './error-codes.js';
import { retryAfterHeader, sendProblem, toProblem } from './problem-details.js';
import { requestIdOf } from '../request-context/request-context.js';
import type { RouteTable } from '../http/route-table.js';

const STATUS_CODES = new Map<number, ErrorCode>(
  (Object.entries(ERROR_STATUS) as [ErrorCode, number][])
    .filter(([code]) =>
      [
        'validation_failed',
        'unauthenticated',
        'forbidden',
        'not_found',
        'method_not_allowed',
        'conflict',
        'payload_too_large',
        'unsupported_media_type',
        'service_unavailable',
      ].includes(code),
    )
    .map(([code, status]) => [status, code]),
);

/**
 * The single place errors become responses: every error is RFC 9457 problem+json with a stable `code` and the
 * request id. Anything unexpected is a 500 with no internals in the body and the full error in the log.
 */
/** Renders a problem as an HTML page for a browser; false when it did not (then problem+json is sent). */
export type ProblemPage = (req: Request, res: Response, problem: AppException) => boolean;

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    private readonly routes: RouteTable,
    private readonly page?: ProblemPage,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const appException = this.toAppException(exception, req);
    const requestId = requestIdOf(req) ?? undefined;
    const headers = retryAfterHeader(appException);
    if (appException.code === 'method_not_allowed') {
      headers.Allow = this.routes.allowedMethods(req.path).join(', ');
    }
    logServerFailure(
      this.logger,
      exception,
      appException,
      { requestId, method: req.method, path: req.path },
      'request failed',
    );
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A person's browser (it asks for HTML, not JSON) outside the API gets a page: an unknown address, a form post
    // refused. API clients get problem+json as always.
    if (this.page && !API_PATH.test(req.path) && req.accepts(['application/json', 'text/html']) === 'text/html') {
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      if (this.page(req, res, appException)) return;
    }
    sendProblem(res, toProblem(appException, req.path, requestId), headers);
  }

  private toAppException(exception: unknown, req: Request): AppException {
    if (exception instanceof AppException) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (this.routes.isUnmatched(exception, req)) {
        return this.routes.allowedMethods(req.path).length > 0
          ? new AppException('method_not_allowed', `${req.method} is not supported on this path`)
          : new AppException('not_found', 'No such resource');
      }
      if (status === 400 && exception.cause instanceof SyntaxError) {
        return new AppException('malformed_json', 'The request body could not be parsed as JSON');
      }
      if (status === 400 && exception.cause instanceof URIError) {
        return new AppException('validation_failed', 'The request path is not correctly percent-encoded');
      }
      const code = STATUS_CODES.get(status) ?? (status >= 500 ? 'internal_error' : 'validation_failed');
      return new AppException(code, status >= 500 ? undefined : exception.message);
    }
    return classifyUnexpected(exception);
  }
}

/** The API's paths, in any case: Express matches routes whatever their case. */
const API_PATH = /^\/api\//i;

/**
 * A request answered 5xx, in the log: a genuine fault (internal_error) as an error with its stack; the database or a
 * provider down or slow — expected, retryable — reported once per cause and minute (reportOutage), without a stack.
 */
export function logServerFailure(
  logger: Logger,
  exception: unknown,
  failure: AppException,
  fields: Record<string, unknown>,
  message: string,
): void {
  if (failure.code === 'internal_error') {
    logger.error({ err: exception, ...fields }, message);
  } else if (failure.status >= 500) {
    const cause = outageCause(exception) ?? failure.code;
    reportOutage(logger, cause, { ...fields, code: failure.code, detail: errorDetail(exception) }, message);
  }
}

function errorDetail(exception: unknown): string | undefined {
  if (exception instanceof AppException) return exception.detail;
  return exception instanceof Error ? exception.message.slice(0, 200) : undefined;
}
