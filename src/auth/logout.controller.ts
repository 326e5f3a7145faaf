import { Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiQuery,
  ApiSeeOtherResponse,
  ApiTags,
} from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { ApiProblems } from '../common/openapi/problem-responses.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import type { SessionPrincipal } from '../access/authenticated-request.js';
import { OptionalPrincipal, Public, SessionOptional, SignsOut } from '../access/auth.decorators.js';
import { CSRF_HEADER } from '../access/csrf.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { requestIdOf } from '../common/request-context/request-context.js';
import { BrowserSignOut } from './browser-sign-out.js';
import { ProviderLogout } from './provider-logout.js';
import { redirect } from '../common/http/redirect.js';

export class LogoutDto {
  @ApiProperty({
    format: 'uri',
    description:
      "Send the browser here next: the provider's sign-out page, which ends its single sign-on session and comes back to /auth/logout/done",
  })
  providerLogoutUrl: string;
}

@ApiTags('auth')
@Controller('auth')
export class LogoutController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly signOut: BrowserSignOut,
    private readonly providerLogout: ProviderLogout,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  /**
   * A browser with an expired or unknown session can still clear its cookie; a live session is revoked
   * server-side, after the guard's CSRF check, so another site cannot sign the user out (@SignsOut: a request the
   * browser proves same-origin needs no token, so a page older than the latest sign-in still signs out). Where the session's
   * provider offers RP-initiated logout, the browser is sent on to end the provider's session too: a browser
   * (Accept: text/html) by a 303, an API client by `providerLogoutUrl`.
   */
  @SessionOptional()
  @SignsOut()
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: "Revoke the current session, clear its cookie, and end the provider's session too" })
  @ApiHeader({
    name: CSRF_HEADER,
    required: false,
    description: 'csrfToken from GET /api/me; not needed when the browser proves the request same-origin (Origin)',
  })
  @ApiNoContentResponse({
    description: 'Signed out (also when there was no live session); nothing to do at the provider',
  })
  @ApiOkResponse({ type: LogoutDto, description: "Signed out here; the provider's session ends at providerLogoutUrl" })
  @ApiSeeOtherResponse({ description: "Signed out here; a browser is sent to the provider's sign-out page" })
  @ApiProblems(403)
  async logout(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<LogoutDto | undefined> {
    const ended = principal
      ? await this.dataSource.transaction(async (manager) => {
          const session = await this.sessions.end(principal.sessionId, 'logout', manager);
          if (session) {
            await this.audit.record(
              {
                type: AUDIT_EVENT.sessionRevoked,
                actor: { type: 'account', accountId: principal.accountId },
                requestId: requestIdOf(req),
                subjectAccountId: principal.accountId,
                details: { sessionId: principal.sessionId, reason: 'logout' },
              },
              manager,
            );
          }
          return session;
        })
      : undefined;
    await this.signOut.apply(req, res);
    const providerLogoutUrl = await this.providerLogout.start(ended?.provider ?? null, req, res);
    // A browser (the pages' sign-out form) always goes on to a page: the provider's sign-out, or LOGOUT_REDIRECT_URL.
    if (prefersHtml(req)) {
      res.setHeader('Cache-Control', 'no-store');
      redirect(res, 303, (providerLogoutUrl ?? this.config.login.afterLogoutUrl).href);
      return undefined;
    }
    if (!providerLogoutUrl) return undefined;
    res.setHeader('Cache-Control', 'no-store');
    res.status(200);
    return { providerLogoutUrl: providerLogoutUrl.href };
  }

  /**
   * The provider's sign-out page sends the browser back here (post_logout_redirect_uri): on to the next provider this
   * browser signed in at (ProviderLogout), then to LOGOUT_REDIRECT_URL, a fixed page — or to the page of ours the round
   * was started to end on ("Forget this sign-in" ends on its notice). A `state` that does not match is
   * no danger: it is noted and the browser goes to that page. Parameters other than `state` are the provider's own
   * (some add `iss` or `sid`): they are ignored, as on a login callback, not refused.
   */
  @Public()
  @Get('logout/done')
  @ApiOperation({
    summary: "Back from a provider's sign-out page: on to the next provider's, or to LOGOUT_REDIRECT_URL",
  })
  @ApiQuery({ name: 'state', required: false, description: 'The state sent with the RP-initiated logout request' })
  @ApiSeeOtherResponse({
    description:
      'The next provider\'s sign-out page, or LOGOUT_REDIRECT_URL (a round that "Forget this sign-in" started: its notice)',
  })
  async done(
    @Query() providerParameters: Record<string, unknown>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const { state } = providerParameters;
    const back = await this.providerLogout.finish(req, typeof state === 'string' ? state : undefined, res);
    res.setHeader('Cache-Control', 'no-store');
    const next = back.confirmed ? await this.providerLogout.next(req, res, back) : null;
    if (next) return redirect(res, 303, next.href);
    const target =
      back.confirmed && back.endsAt
        ? new URL(back.endsAt, this.config.http.publicBaseUrl)
        : new URL(this.config.login.afterLogoutUrl);
    if (!back.confirmed) target.searchParams.set('providerLogout', 'unconfirmed');
    redirect(res, 303, target.href);
  }
}

function prefersHtml(req: Request): boolean {
  return /text\/html/.test(req.headers.accept ?? '');
}
