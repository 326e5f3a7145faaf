import { type ArgumentsHost, Catch, type ExceptionFilter, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { AppException } from '../common/problem/app-exception.js';
import { classifyUnexpected } from '../common/problem/classify-unexpected.js';
import { logFailure, reportOutage } from '../common/logging/fault-log.js';
import { type ProblemDetails, retryAfterHeader, sendProblem, toProblem } from '../common/problem/problem-details.js';
import { requestIdOf } from '../common/request-context/request-context.js';
import { InjectRootLogger } from '../common/logging/logger.module.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { escapeHtml, redirect } from '../common/http/redirect.js';
import { ProviderLogout } from './provider-logout.js';

/**
 * Browser legs of a login (start and callback) end on a page, not on JSON: failures go to LOGIN_ERROR_URL with the
 * stable code. A client that asks for JSON (Accept: application/json) gets problem+json instead. A start over
 * the client's limit (429) is answered here, with Retry-After, for browsers too.
 */
@Catch()
@Injectable()
export class LoginRedirectFilter implements ExceptionFilter {
  constructor(
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectRootLogger() private readonly logger: Logger,
    private readonly providerLogout: ProviderLogout,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    // A database that is down or slow is `service_unavailable` (try again), as on the API routes; only a genuine
    // fault is `internal_error`.
    const failure = exception instanceof AppException ? exception : classifyUnexpected(exception);
    const requestId = requestIdOf(req) ?? undefined;
    // Logged here, once: the error page the browser is sent to only explains the code and logs nothing.
    if (!(exception instanceof AppException)) {
      const message = failure.code === 'internal_error' ? 'login failed unexpectedly' : 'login failed';
      logFailure(this.logger, exception, { requestId, path: req.path, failure: failure.code }, message);
    } else if (failure.status >= 500) {
      reportOutage(
        this.logger,
        failure.code,
        { failure: failure.code, detail: failure.detail, requestId, path: req.path },
        'login failed',
      );
    }
    if (res.headersSent) return void res.destroy();
    // A refused callback of this browser's login: the person may have signed in at the provider all the same.
    this.providerLogout.noteReturn(req, res);
    const problem = toProblem(failure, req.path, requestId);
    if (wantsJson(req)) return sendProblem(res, problem, retryAfterHeader(failure));
    // A redirect would lose both the status and Retry-After: a browser that must wait is told so here.
    if (failure.status === 429) return sendWaitPage(res, problem, retryAfterHeader(failure));
    const target = new URL(this.config.login.errorUrl);
    target.searchParams.set('code', failure.code);
    res.setHeader('Cache-Control', 'no-store');
    redirect(res, 302, target.href);
  }
}

/** A client of a browser leg (start, callback) that asked for JSON rather than a page. */
export function wantsJson(req: Request): boolean {
  const accept = req.headers.accept ?? '';
  return /application\/(problem\+)?json/.test(accept) && !/text\/html/.test(accept);
}

/** A minimal page for a browser that must wait (429): the status and Retry-After stay as they are. */
function sendWaitPage(res: Response, problem: ProblemDetails, headers: Record<string, string>): void {
  res.status(problem.status);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(problem.title)}</title></head>` +
      `<body><h1>${escapeHtml(problem.title)}</h1><p>${escapeHtml(problem.detail ?? '')}</p>` +
      `<p>Code: <code>${escapeHtml(problem.code)}</code></p></body></html>`,
  );
}
