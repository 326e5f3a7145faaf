import { Controller, Get, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController, ApiHideProperty } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import type { Request, Response } from 'express';
import { LoginStarters } from '../../auth/login-starters.js';
import { AppException } from '../../common/problem/app-exception.js';
import type { AppConfig } from '../../app/app.config.js';
import { InjectAppConfig } from '../../config/config.module.js';
import { pathInAdminArea } from '../../access/admin-area.js';
import { openedFromThisSite } from '../../access/csrf.js';
import { safeReturnTo } from '../../login-transactions/return-to.js';
import type { SessionPrincipal } from '../../access/authenticated-request.js';
import { OptionalPrincipal, SessionOptional } from '../../access/auth.decorators.js';
import { PageErrorFilter } from '../common/page-error.filter.js';
import { PageRenderer, viewerOf } from '../common/page-renderer.js';
import { PROVIDER_NAMES } from '../common/provider-names.js';

class SignInQueryDto {
  @ApiHideProperty()
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  returnTo?: string;

  /** Back from signing out at the provider (LOGOUT_REDIRECT_URL's default is this page). */
  @ApiHideProperty()
  @IsOptional()
  @IsIn(['unconfirmed'])
  providerLogout?: string;
}

/**
 * The sign-in page at `/`: one way in per enabled provider, Digidentity's QR login, and "sign in as someone else"
 * for the next person at a shared PC. `/sandbox` is the same page with the sandbox personas explained.
 */
@ApiExcludeController()
@SessionOptional()
@UseFilters(PageErrorFilter)
@Controller()
export class SignInController {
  constructor(
    private readonly pages: PageRenderer,
    private readonly starters: LoginStarters,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  @Get()
  signIn(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Query() query: SignInQueryDto,
    @Req() req: Request,
    @Res() res: Response,
  ): void {
    this.render(principal, query, req, res, false);
  }

  @Get('sandbox')
  sandboxSignIn(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Query() query: SignInQueryDto,
    @Req() req: Request,
    @Res() res: Response,
  ): void {
    if (!this.pages.sandboxInfo) throw new AppException('not_found', 'No sandbox is running');
    this.render(principal, query, req, res, true);
  }

  private render(
    principal: SessionPrincipal | undefined,
    query: SignInQueryDto,
    req: Request,
    res: Response,
    sandboxPage: boolean,
  ): void {
    const base = this.config.http.publicBaseUrl;
    const asked = query.returnTo !== undefined ? safeReturnTo(query.returnTo, base) : '/';
    // Every way on from this page is a click on this site: another site's way into the admin area would pass as ours.
    const returnTo =
      pathInAdminArea(asked, base) && !openedFromThisSite(req, this.config.http.trustedOrigins) ? '/' : asked;
    const link = (provider: string, prompt?: string) => {
      const url = new URL(`/auth/${provider}/login`, base);
      if (returnTo !== '/') url.searchParams.set('returnTo', returnTo);
      if (prompt) url.searchParams.set('prompt', prompt);
      return `${url.pathname}${url.search}`;
    };
    const sandbox = this.pages.sandboxInfo;
    const providers = this.starters.enabled().map((provider) => ({
      id: provider,
      ...PROVIDER_NAMES[provider],
      href: link(provider),
      // eHerkenning's REST API has no prompt: every login there is a new sign-in anyway.
      someoneElseHref: provider === 'signicat-eherkenning' ? null : link(provider, 'login'),
      qr: provider === 'digidentity' && this.starters.get(provider)?.startPasswordless !== undefined,
      sandbox: sandboxPage ? sandbox?.providers.find((p) => p.provider === provider) : undefined,
    }));
    this.pages.render(req, res, 'sign-in.njk', {
      title: sandboxPage ? 'Sandbox sign-in' : 'Sign in',
      nav: 'sign-in',
      viewer: viewerOf(principal),
      scripts: ['sign-in.js'],
      providers,
      sandboxPage,
      returnTo,
      providerLogoutUnconfirmed: query.providerLogout === 'unconfirmed',
      errorUrl: this.config.login.errorUrl.href,
      pendingUrl: this.config.login.pendingUrl.href,
    });
  }
}
