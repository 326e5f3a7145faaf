import { Body, Controller, Get, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { isRecent, reauthenticateUrl, recentSince } from '../../sessions/recent-authentication.js';
import { AppException } from '../../common/problem/app-exception.js';
import { uuidParam } from '../../common/http/uuid-param.js';
import { requestIdOf } from '../../common/request-context/request-context.js';
import type { AppConfig } from '../../app/app.config.js';
import { InjectAppConfig } from '../../config/config.module.js';
import { LinkingService } from '../../linking/linking.service.js';
import { MeLinksController } from '../../linking/me-links.controller.js';
import { MeSessionsController } from '../../me/me-sessions.controller.js';
import type { SessionPrincipal } from '../../access/authenticated-request.js';
import { CurrentPrincipal, OptionalPrincipal, SessionOptional } from '../../access/auth.decorators.js';
import { PageErrorFilter } from '../common/page-error.filter.js';
import { ProviderFormDto, seeOther } from '../common/page-forms.js';
import { errorText, noticeText, PageMessageQueryDto, withMessage } from '../common/page-messages.js';
import { PageRenderer, viewerOf } from '../common/page-renderer.js';
import { PROVIDER_NAMES } from '../common/provider-names.js';

const ACCOUNT = '/account';
const SERMI_FIELDS = ['ioeuid', 'iouid', 'rsseuid', 'rssuid', 'cabuid'] as const;

/** The SERMI identity of the account, from its Digidentity login: an IOE, or an RSSE with its chain's IOE. */
function sermiIdentity(principal: SessionPrincipal) {
  const link = principal.links.find((l) => l.provider === 'digidentity');
  if (!link) return null;
  const attributes = link.attributes;
  const uids = Object.fromEntries(
    SERMI_FIELDS.filter((field) => typeof attributes[field] === 'string').map((field) => [field, attributes[field]]),
  );
  const actorType = attributes.actorType === 'RSSE' ? 'RSSE' : 'IOE';
  const own = String((actorType === 'RSSE' ? uids.rsseuid : uids.ioeuid) ?? '');
  return { actorType, uids, authorisationUid: own.split('/').at(-1) ?? null };
}

/**
 * "My account": the account and its SERMI identity, its sign-in methods (add, remove), its live sessions (end one,
 * sign out everywhere else). Every action is the REST API's own handler (/api/me/links, /api/me/sessions).
 */
@ApiExcludeController()
@UseFilters(PageErrorFilter)
@Controller('account')
export class AccountPageController {
  constructor(
    private readonly pages: PageRenderer,
    private readonly linking: LinkingService,
    private readonly moduleRef: ModuleRef,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  @SessionOptional()
  @Get()
  async show(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Query() query: PageMessageQueryDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (!principal) throw new AppException('unauthenticated', 'Sign in to continue');
    const links = this.linking.list(principal);
    const { sessions, truncated } = await this.sessionsApi().list(principal);
    const recent = isRecent(recentSince(principal), this.config.linking.recentAuthSeconds);
    const reauthenticate = reauthenticateUrl(this.config.http.publicBaseUrl, ACCOUNT);
    const sermi = principal.authContext.sermi as
      { actorType?: string; actor?: { uid?: string }; principal?: { uid?: string } } | undefined;
    this.pages.render(req, res, 'account.njk', {
      title: 'My account',
      nav: 'account',
      viewer: viewerOf(principal),
      notice: noticeText(query.notice),
      error: errorText(query.error),
      errorAction:
        query.error === 'reauthentication_required' ? { href: reauthenticate, label: 'Sign in again' } : undefined,
      account: principal.account,
      sermi: sermiIdentity(principal),
      sessionSermi: sermi ?? null,
      links: links.items.map((link) => ({
        ...link,
        providerName: PROVIDER_NAMES[link.provider].name,
        // Removing it would leave no way in through an enabled provider: the service refuses that, so does the page.
        removable: links.items.length > 1,
      })),
      linkable: links.linkableProviders.map((provider) => ({ id: provider, ...PROVIDER_NAMES[provider] })),
      recent,
      recentUntil: links.recentAuthenticationUntil,
      reauthenticateUrl: reauthenticate,
      sessions,
      truncated,
      otherSessions: sessions.filter((session) => !session.current).length,
      session: { provider: principal.provider, authenticatedAt: principal.authenticatedAt },
    });
  }

  @Post('links')
  async addLink(
    @CurrentPrincipal() principal: SessionPrincipal,
    @Body() body: ProviderFormDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.act(res, async () => {
      const started = await this.moduleRef
        .get(MeLinksController, { strict: false })
        .start(
          principal,
          body.provider,
          { mode: 'redirect', returnTo: withMessage(ACCOUNT, 'notice', 'linked') },
          req,
          res,
        );
      return started.redirectUrl ?? ACCOUNT;
    });
  }

  @Post('links/:id/remove')
  async removeLink(
    @CurrentPrincipal() principal: SessionPrincipal,
    @Param('id', uuidParam) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.act(res, async () => {
      const removed = await this.moduleRef
        .get(MeLinksController, { strict: false })
        .remove(principal, id, requestIdOf(req), req, res);
      return removed.signedOut ? (removed.providerLogoutUrl ?? '/') : withMessage(ACCOUNT, 'notice', 'link_removed');
    });
  }

  @Post('sessions/revoke-others')
  async revokeOthers(@CurrentPrincipal() principal: SessionPrincipal, @Req() req: Request, @Res() res: Response) {
    await this.act(res, async () => {
      const { revokedSessions } = await this.sessionsApi().revokeOthers(principal, requestIdOf(req));
      return withMessage(ACCOUNT, 'notice', revokedSessions > 0 ? 'others_signed_out' : 'nothing_to_end');
    });
  }

  @Post('sessions/:id/end')
  async endSession(
    @CurrentPrincipal() principal: SessionPrincipal,
    @Param('id', uuidParam) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.act(res, async () => {
      const ended = await this.sessionsApi().revoke(principal, id, requestIdOf(req), req, res);
      return ended.signedOut ? (ended.providerLogoutUrl ?? '/') : withMessage(ACCOUNT, 'notice', 'session_ended');
    });
  }

  private sessionsApi(): MeSessionsController {
    return this.moduleRef.get(MeSessionsController, { strict: false });
  }

  /** Runs a form's action; a refusal comes back to the page as a message (the problem's stable code). */
  private async act(res: Response, action: () => Promise<string>): Promise<void> {
    let next: string;
    try {
      next = await action();
    } catch (error) {
      if (!(error instanceof AppException)) throw error;
      next = withMessage(ACCOUNT, 'error', error.code);
    }
    seeOther(res, next);
  }
}
