import { Body, Controller, Get, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiExcludeController, ApiHideProperty } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import type { Request, Response } from 'express';
import type { AppConfig } from '../../app/app.config.js';
import { InjectAppConfig } from '../../config/config.module.js';
import { BrowserLogins } from '../../auth/browser-logins.js';
import { BrowserSignOut } from '../../auth/browser-sign-out.js';
import { ProviderLogout } from '../../auth/provider-logout.js';
import { LoginStarters } from '../../auth/login-starters.js';
import { AppException } from '../../common/problem/app-exception.js';
import { hashBinding, BrowserBinding } from '../../login-transactions/browser-binding.js';
import { LinkingService } from '../../linking/linking.service.js';
import { PendingIdentityController } from '../../linking/pending-identity.controller.js';
import type { PendingIdentityDto } from '../../linking/dto/links.dto.js';
import type { SessionPrincipal } from '../../access/authenticated-request.js';
import { CurrentPrincipal, OptionalPrincipal, SessionOptional } from '../../access/auth.decorators.js';
import { PageErrorFilter } from '../common/page-error.filter.js';
import { PendingIdentityFormDto, PendingSignInFormDto, seeOther } from '../common/page-forms.js';
import { errorText, noticeText, PageMessageQueryDto, withMessage } from '../common/page-messages.js';
import { PageRenderer, viewerOf } from '../common/page-renderer.js';
import { PROVIDER_NAMES } from '../common/provider-names.js';

class PendingPageQueryDto extends PageMessageQueryDto {
  @ApiHideProperty()
  @IsOptional()
  @Matches(/^[a-z_]{1,64}$/)
  code?: string;

  @ApiHideProperty()
  @IsOptional()
  @Matches(/^[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}$/)
  reference?: string;
}

const ATTACHED = withMessage('/account', 'notice', 'attached');

/**
 * LOGIN_PENDING_URL's default: a sign-in that no account knows yet, in plain words, with what the person can do —
 * attach it by signing in with a method they already have (one click), create an account where the provider's
 * policy allows it, give the support desk the reference, or make this browser forget it. The `reference` the login
 * appends to the URL is accepted (portals with their own page read it) but never shown. Every action goes through the same linking service as
 * /api/pending-identity.
 */
@ApiExcludeController()
@UseFilters(PageErrorFilter)
@Controller('pending')
export class PendingPageController {
  constructor(
    private readonly pages: PageRenderer,
    private readonly linking: LinkingService,
    private readonly binding: BrowserBinding,
    private readonly starters: LoginStarters,
    private readonly browserLogins: BrowserLogins,
    private readonly browserSignOut: BrowserSignOut,
    private readonly providerLogout: ProviderLogout,
    private readonly moduleRef: ModuleRef,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  @SessionOptional()
  @Get()
  async show(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Query() query: PendingPageQueryDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const pending = await this.heldHere(req);
    const failure = query.error ?? (query.code && query.code !== 'identity_pending' ? query.code : undefined);
    const attributes = pending?.attributes ?? {};
    const name = ['name', 'displayName', 'organisationName', 'legalLastName']
      .map((key) => attributes[key])
      .find((value) => typeof value === 'string');
    this.pages.render(req, res, 'pending.njk', {
      title: 'Your sign-in needs one more step',
      viewer: viewerOf(principal),
      error: errorText(failure),
      notice: noticeText(query.notice),
      pending: pending && {
        ...pending,
        providerName: PROVIDER_NAMES[pending.provider].name,
        signsOutThere: this.starters.get(pending.provider)?.providerLogout !== undefined,
        name: typeof name === 'string' ? name : null,
      },
      // Only the reference of an identity this browser holds: one from the URL could be anyone's, and a person who
      // reads it out to the support desk would have a stranger's sign-in attached to their own account.
      reference: pending?.reference ?? null,
      referenceSeconds: this.config.linking.rebindPendingMaxAgeSeconds,
      signInWith: pending
        ? this.starters
            .enabled()
            .filter((provider) => provider !== pending.provider)
            .map((provider) => ({ id: provider, ...PROVIDER_NAMES[provider] }))
        : [],
    });
  }

  /** The identity this browser holds, or null. */
  private async heldHere(req: Request): Promise<PendingIdentityDto | null> {
    const binding = this.binding.read(req);
    try {
      return await this.linking.pendingForBrowser(binding ? hashBinding(binding) : null);
    } catch (error) {
      if (error instanceof AppException && error.code === 'pending_identity_not_found') return null;
      throw error;
    }
  }

  /** One click: a login with a method the person already has, which attaches the identity once signed in. */
  @SessionOptional()
  @Post('sign-in')
  async signInToAttach(@Body() body: PendingSignInFormDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    const starter = this.starters.get(body.provider);
    if (!starter) throw new AppException('provider_not_enabled', `${body.provider} is not enabled on this portal`);
    // Only for the identity this browser holds: no login is started for one it does not (as the API answers 404).
    if ((await this.heldHere(req))?.id !== body.pendingIdentityId) {
      return seeOther(res, withMessage('/pending', 'error', 'pending_identity_not_found'));
    }
    await this.browserLogins.redirectToProvider(starter, { returnTo: ATTACHED }, req, res, {
      attachPendingIdentityId: body.pendingIdentityId,
    });
  }

  /** Signed in already: attach it to this account (directly, or after confirming it at its provider). */
  @Post('attach')
  async attach(
    @CurrentPrincipal() principal: SessionPrincipal,
    @Body() body: PendingIdentityFormDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    try {
      const outcome = await this.moduleRef
        .get(PendingIdentityController, { strict: false })
        .attach(principal, { pendingIdentityId: body.pendingIdentityId, returnTo: ATTACHED }, req, res);
      if (outcome.status === 'confirm_with_provider' && outcome.redirectUrl) return seeOther(res, outcome.redirectUrl);
      seeOther(res, outcome.signedOut ? (outcome.providerLogoutUrl ?? '/') : ATTACHED);
    } catch (error) {
      if (!(error instanceof AppException)) throw error;
      seeOther(res, withMessage('/pending', 'error', error.code));
    }
  }

  /**
   * "Not you, or a shared computer?": the sign-ins this browser holds are no longer its to attach or to make an
   * account of (as at sign-out), and its binding cookie goes. They stay for the support desk and admin review until
   * they expire. A browser that is not signed in here also goes through the sign-out pages of the providers it
   * signed in at (ProviderLogout), whose single sign-on would answer the next person's login with this person's
   * sign-in, and ends on the same notice; a session the browser has is left alone, and so are its providers' sessions.
   */
  @SessionOptional()
  @Post('forget')
  async forget(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.browserSignOut.forgetHeldSignIns(req, res);
    const forgotten = withMessage('/pending', 'notice', 'pending_forgotten');
    const round = principal ? null : await this.providerLogout.start(null, req, res, { endsAt: forgotten });
    seeOther(res, round?.href ?? forgotten);
  }

  /** Policy `choose`: a new account from this identity, signed in. */
  @SessionOptional()
  @Post('create-account')
  async createAccount(@Body() body: PendingIdentityFormDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      await this.moduleRef
        .get(PendingIdentityController, { strict: false })
        .createAccount({ pendingIdentityId: body.pendingIdentityId }, req, res);
      seeOther(res, withMessage('/account', 'notice', 'account_created'));
    } catch (error) {
      if (!(error instanceof AppException)) throw error;
      seeOther(res, withMessage('/pending', 'error', error.code));
    }
  }
}
