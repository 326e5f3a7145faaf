import { applyDecorators, Get, Inject, Query, Req, Res, type Type, UseFilters, UseGuards } from '@nestjs/common';
import { ApiFoundResponse, ApiOperation } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { BrowserLogins } from '../../auth/browser-logins.js';
import { LoginQueryDto } from '../../auth/dto/login-query.dto.js';
import type { ProviderLoginStarter } from '../../auth/login-starters.js';
import { LoginRedirectFilter } from '../../auth/login-redirect.filter.js';
import type { VerifiedLogin } from '../../auth/verified-login.js';
import { ApiLoginStartLimit } from '../../common/openapi/problem-responses.js';
import { LoginGuard } from './provider-passport.js';

/** What differs between providers' login and callback routes: the service, the strategy and the descriptions. */
export interface LoginRoutes<S extends ProviderLoginStarter> {
  service: Type<S>;
  /** The Passport strategy that verifies the callback (see ProviderStrategy). */
  strategy: string;
  login: { summary: string; redirect: string };
  callback: { path?: string; summary: string; outcome: string; decorators?: MethodDecorator[] };
}

/**
 * The browser routes every provider has: `GET login` sends the browser to the provider; `GET callback` (verified by
 * the strategy) signs in and sends it on. A provider's controller extends this and adds `@Controller(path)`, its
 * tag, `@Public()` and any routes of its own.
 */
export function ProviderLoginController<S extends ProviderLoginStarter>(routes: LoginRoutes<S>) {
  class ProviderLoginRoutes {
    constructor(
      @Inject(routes.service) readonly logins: S,
      @Inject(BrowserLogins) readonly browserLogins: BrowserLogins,
    ) {}

    @Get('login')
    @UseFilters(LoginRedirectFilter)
    @ApiOperation({ summary: routes.login.summary })
    @ApiFoundResponse({ description: routes.login.redirect })
    @ApiLoginStartLimit()
    async login(@Query() query: LoginQueryDto, @Req() req: Request, @Res() res: Response): Promise<void> {
      await this.browserLogins.redirectToProvider(this.logins, query, req, res);
    }

    /** Query parameters are the provider's (code, state, iss, error…); the strategy reads and checks them. */
    @Get(routes.callback.path ?? 'callback')
    @UseGuards(LoginGuard(routes.strategy))
    @UseFilters(LoginRedirectFilter)
    @ApiOperation({ summary: routes.callback.summary })
    @applyDecorators(...(routes.callback.decorators ?? []))
    @ApiFoundResponse({ description: routes.callback.outcome })
    async callback(
      @Query() _providerParameters: Record<string, unknown>,
      @Req() req: Request & { user: VerifiedLogin },
      @Res() res: Response,
    ): Promise<void> {
      await this.browserLogins.completeAndRedirect(req.user, req, res);
    }
  }
  return ProviderLoginRoutes;
}
