import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { AppException } from '../../common/problem/app-exception.js';
import { classifyUnexpected } from '../../common/problem/classify-unexpected.js';
import { ERROR_TITLES } from '../../common/problem/error-codes.js';
import { sendProblem, toProblem } from '../../common/problem/problem-details.js';
import { logServerFailure } from '../../common/problem/problem-details.filter.js';
import { InjectRootLogger } from '../../common/logging/logger.module.js';
import { requestIdOf } from '../../common/request-context/request-context.js';
import { safeReturnTo } from '../../login-transactions/return-to.js';
import { errorText } from './page-messages.js';
import { PageRenderer, viewerOf } from './page-renderer.js';
import type { SessionPrincipal } from '../../access/authenticated-request.js';
import { redirect } from '../../common/http/redirect.js';

/**
 * Errors on the backend's pages end on a page, never on JSON: what went wrong, what to do next and the request id.
 * A page that needs a session sends a browser without one to the sign-in page, coming back afterwards.
 */
@Catch()
@Injectable()
export class PageErrorFilter implements ExceptionFilter {
  constructor(
    private readonly pages: PageRenderer,
    @InjectRootLogger() private readonly logger: Logger,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request & { principal?: SessionPrincipal }>();
    const res = host.switchToHttp().getResponse<Response>();
    const failure =
      exception instanceof AppException
        ? exception
        : exception instanceof HttpException && exception.getStatus() < 500
          ? new AppException(exception.getStatus() === 404 ? 'not_found' : 'validation_failed', exception.message)
          : classifyUnexpected(exception);
    logServerFailure(this.logger, exception, failure, { requestId: requestIdOf(req), path: req.path }, 'page failed');
    if (res.headersSent) return void res.destroy();
    // A client that does not ask for HTML (a script, an API client) gets the problem document.
    if (req.accepts(['application/json', 'text/html']) !== 'text/html') {
      return sendProblem(res, toProblem(failure, req.path, requestIdOf(req) ?? undefined));
    }
    if (failure.code === 'unauthenticated' && req.method === 'GET') {
      const back = ownAddress(req);
      res.setHeader('Cache-Control', 'no-store');
      return redirect(res, 303, `/?returnTo=${encodeURIComponent(back)}`);
    }
    this.renderPage(req, res, failure);
  }

  /** The error page for a browser (also for errors outside the pages: an unknown address, a refused form post). */
  renderPage(req: Request & { principal?: SessionPrincipal }, res: Response, failure: AppException): boolean {
    if (failure.code === 'forbidden' && req.principal && /^\/console(\/|$)/.test(req.path)) {
      const title = 'The support desk is for administrators';
      this.pages.render(req, res, 'console/not-admin.njk', { title, viewer: viewerOf(req.principal) }, 403);
      return true;
    }
    // A click on this page's link is a navigation of this site's, which the admin area lets through.
    const openHere =
      failure.code === 'opened_from_another_site' && req.method === 'GET' && ownAddress(req) === req.originalUrl
        ? req.originalUrl
        : null;
    this.pages.render(
      req,
      res,
      'error.njk',
      {
        title: ERROR_TITLES[failure.code],
        viewer: viewerOf(req.principal),
        code: failure.code,
        heading: ERROR_TITLES[failure.code],
        detail: errorText(failure.code),
        nextStep:
          failure.status >= 500 ? 'Try again in a few minutes.' : openHere ? 'If you meant to, open it here.' : null,
        openHere,
      },
      failure.status,
    );
    return true;
  }
}

/** The address the request asked for, as a path of this site to come back to ('/' when it is not one). */
function ownAddress(req: Request): string {
  return safeReturnTo(req.originalUrl, new URL('http://page.invalid'));
}
