import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Allow } from 'class-validator';
import type { Request, Response } from 'express';
import { ERROR_STATUS, ERROR_TITLES, type ErrorCode } from '../../common/problem/error-codes.js';
import { problemTypeUri } from '../../common/problem/problem-details.js';
import { requestIdOf } from '../../common/request-context/request-context.js';
import type { SessionPrincipal } from '../../access/authenticated-request.js';
import { Public } from '../../access/auth.decorators.js';
import { SessionCookie } from '../../sessions/session-cookie.js';
import { SessionsService } from '../../sessions/sessions.service.js';
import { PageRenderer, viewerOf } from '../common/page-renderer.js';

class LoginErrorQueryDto {
  @ApiPropertyOptional({ description: 'The stable code of the failure (any other value gets a generic text)' })
  @Allow()
  code?: unknown;
}

/** What the explanation says: the same in HTML and JSON. */
export interface LoginErrorExplanation {
  /** The code explained, or null when it is missing or unknown. */
  code: ErrorCode | null;
  type: string | null;
  title: string;
  detail: string;
  nextStep: string;
  /** This page's request id, for a support request. */
  requestId: string | null;
}

const START_AGAIN = 'Go back to the portal and sign in again.';
const LATER = 'Try again in a few minutes. If it keeps happening, contact support and mention the reference below.';
const SUPPORT = 'Contact support and mention the reference below.';

const NEXT_STEPS: Partial<Record<ErrorCode, string>> = {
  login_cancelled: 'The sign-in was cancelled. Go back to the portal when you want to sign in.',
  login_expired: START_AGAIN,
  login_wrong_browser: 'Finish the sign-in in the browser where you started it, or start again here.',
  login_replayed: START_AGAIN,
  login_state_invalid: START_AGAIN,
  authentication_not_fresh: 'Sign in again at the identity provider when it asks you to.',
  provider_unavailable: LATER,
  provider_error: LATER,
  internal_error: LATER,
  service_unavailable: LATER,
  provider_misconfigured: SUPPORT,
  account_disabled: 'Your account is disabled. Contact your administrator.',
  identity_pending:
    'This identity is not yet linked to an account. Sign in with a login method you already use to attach it, ' +
    'or ask an administrator.',
  identity_already_linked: 'This identity belongs to another account. Sign in with that account, or ask support.',
  sermi_claims_missing: 'Your SERMI authorisation is incomplete. Contact the SERMI Trust Centre (Digidentity).',
  sermi_uid_malformed: 'Your SERMI authorisation is not valid. Contact the SERMI Trust Centre (Digidentity).',
  sermi_rsse_set_incomplete: 'Your chain authorisation is incomplete. Contact the SERMI Trust Centre (Digidentity).',
  sermi_rsse_without_ioe: 'Your chain authorisation is incomplete. Contact the SERMI Trust Centre (Digidentity).',
};

const UNKNOWN: Omit<LoginErrorExplanation, 'requestId'> = {
  code: null,
  type: null,
  title: 'The sign-in did not complete',
  detail: 'Something went wrong while signing in.',
  nextStep: START_AGAIN,
};

export function explainLoginError(code: unknown, requestId: string | null): LoginErrorExplanation {
  if (typeof code !== 'string' || !Object.hasOwn(ERROR_STATUS, code)) return { ...UNKNOWN, requestId };
  const known = code as ErrorCode;
  const status = ERROR_STATUS[known];
  return {
    code: known,
    type: problemTypeUri(known),
    title: ERROR_TITLES[known],
    detail: status >= 500 ? 'The sign-in failed on our side or at the identity provider.' : 'The sign-in was refused.',
    nextStep: NEXT_STEPS[known] ?? (status >= 500 ? LATER : START_AGAIN),
    requestId,
  };
}

@ApiTags('auth')
@Controller('auth')
export class LoginErrorController {
  constructor(
    private readonly pages: PageRenderer,
    private readonly sessions: SessionsService,
    private readonly sessionCookie: SessionCookie,
  ) {}

  /**
   * The browser's session, looked up here rather than by the guard (the route is public): the page explains a
   * failure, such as the database being down, so a failed lookup is no session, never an error of its own.
   */
  private async liveSession(req: Request): Promise<SessionPrincipal | null> {
    return this.sessions.authenticate(this.sessionCookie.read(req)).catch(() => null);
  }

  /**
   * The default LOGIN_ERROR_URL: explains a login failure code. Always 200 — viewing the explanation is not a
   * failure (the failure was answered and logged where it happened), so it writes no error log and no 5xx.
   */
  @Public()
  @Get('login-error')
  @ApiOperation({
    summary: 'What a login failure code means (the default LOGIN_ERROR_URL)',
    description: 'HTML for browsers (Accept: text/html), JSON otherwise; 200 for every code, known or not.',
  })
  @ApiProduces('application/json', 'text/html')
  @ApiOkResponse({
    description: 'The explanation',
    schema: {
      type: 'object',
      required: ['code', 'type', 'title', 'detail', 'nextStep', 'requestId'],
      properties: {
        code: { type: 'string', nullable: true },
        type: { type: 'string', nullable: true },
        title: { type: 'string' },
        detail: { type: 'string' },
        nextStep: { type: 'string' },
        requestId: { type: 'string', nullable: true },
      },
    },
  })
  async explain(@Query() query: LoginErrorQueryDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    const explanation = explainLoginError(query.code, requestIdOf(req) ?? null);
    res.status(200).setHeader('Cache-Control', 'no-store').setHeader('Vary', 'Accept');
    if (req.accepts(['application/json', 'text/html']) === 'text/html') {
      const principal = await this.liveSession(req);
      this.pages.render(req, res, 'error.njk', {
        title: `Sign-in failed: ${explanation.title}`,
        // A failed login leaves the browser's earlier session as it was: say whose it is, and offer to sign out.
        viewer: viewerOf(principal ?? undefined),
        code: explanation.code,
        heading: explanation.title,
        detail: explanation.detail,
        nextStep: explanation.nextStep,
      });
    } else {
      res.type('application/json; charset=utf-8').send(JSON.stringify(explanation));
    }
  }
}
