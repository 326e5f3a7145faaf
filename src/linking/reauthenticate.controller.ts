import { Controller, Get, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { clientMeta } from '../common/http/client-meta.js';
import { LoginRedirectFilter } from '../auth/login-redirect.filter.js';
import { LoginStarters } from '../auth/login-starters.js';
import { BrowserLogins } from '../auth/browser-logins.js';
import { AppException } from '../common/problem/app-exception.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { ReauthenticateQueryDto } from './dto/links.dto.js';
import { BrowserBinding } from '../login-transactions/browser-binding.js';
import { safeReturnTo } from '../login-transactions/return-to.js';
import type { SessionPrincipal } from '../access/authenticated-request.js';
import { OptionalPrincipal, SessionOptional } from '../access/auth.decorators.js';
import { ApiLoginStartLimit } from '../common/openapi/problem-responses.js';
import { redirect } from '../common/http/redirect.js';

/**
 * The `reauthenticateUrl` of a `reauthentication_required` answer: a fresh login (the provider is asked not to
 * reuse its own session) with one of the account's linked providers, which must prove the same account again.
 */
@ApiTags('auth')
@Controller('auth/reauthenticate')
export class ReauthenticateController {
  constructor(
    private readonly starters: LoginStarters,
    private readonly binding: BrowserBinding,
    private readonly browserLogins: BrowserLogins,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  @SessionOptional()
  @Get()
  @UseFilters(LoginRedirectFilter)
  @ApiOperation({ summary: "Re-authenticate this session's account; redirects to the provider" })
  @ApiFoundResponse({ description: "Redirect to the provider's login page; on failure to LOGIN_ERROR_URL?code=…" })
  @ApiLoginStartLimit()
  async reauthenticate(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Query() query: ReauthenticateQueryDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (!principal) throw new AppException('unauthenticated', 'sign in first');
    const chosen = query.provider ?? principal.provider;
    const starter = principal.links.some((link) => link.provider === chosen) ? this.starters.get(chosen) : undefined;
    if (!starter) throw new AppException('provider_not_enabled', 'the account has no enabled login with this provider');
    const returnTo = safeReturnTo(query.returnTo, this.config.http.publicBaseUrl);
    const continueOnSite = this.browserLogins.continuesOnSite(returnTo, req);
    const url = await starter.startRedirect(
      {
        purpose: 'reauthenticate',
        accountId: principal.accountId,
        returnTo,
        ...this.binding.ensure(req, res),
        ...(continueOnSite ? { continueOnSite } : {}),
      },
      clientMeta(req),
    );
    res.setHeader('Cache-Control', 'no-store');
    redirect(res, 302, url.href);
  }
}
