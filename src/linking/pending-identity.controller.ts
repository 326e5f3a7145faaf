import { Body, Controller, Get, Header, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { clientMeta } from '../common/http/client-meta.js';
import { ApiLoginStartLimit, ApiProblems, ApiSession } from '../common/openapi/problem-responses.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { BrowserBinding, hashBinding } from '../login-transactions/browser-binding.js';
import type { SessionPrincipal } from '../access/authenticated-request.js';
import { CurrentPrincipal, Public } from '../access/auth.decorators.js';
import { CSRF_HEADER } from '../access/csrf.js';
import { SessionCookie } from '../sessions/session-cookie.js';
import { BrowserSignOut } from '../auth/browser-sign-out.js';
import { safeReturnTo } from '../login-transactions/return-to.js';
import { AttachOutcomeDto, CreatedAccountDto, PendingIdentityActionDto, PendingIdentityDto } from './dto/links.dto.js';
import { LinkingService } from './linking.service.js';

/**
 * After a first login with an identity no account knows (provider policy `pending` or `choose`), the same browser
 * can attach it to an account it signs in to, or — policy `choose` — create a new account from it.
 */
@ApiTags('me')
@Controller('api/pending-identity')
export class PendingIdentityController {
  constructor(
    private readonly linking: LinkingService,
    private readonly binding: BrowserBinding,
    private readonly sessionCookie: SessionCookie,
    private readonly signOut: BrowserSignOut,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  @Public()
  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "This browser's identity waiting to be linked, and what can be done with it" })
  @ApiOkResponse({ type: PendingIdentityDto })
  @ApiProblems(404)
  current(@Req() req: Request): Promise<PendingIdentityDto> {
    return this.linking.pendingForBrowser(this.bindingHash(req));
  }

  @Post('attach')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Attach it to the signed-in account (a recent login with a method already linked is needed)',
  })
  @ApiHeader({ name: CSRF_HEADER, required: true, description: 'csrfToken from GET /api/me' })
  @ApiOkResponse({ type: AttachOutcomeDto })
  @ApiSession(400, 403, 404, 409, 410)
  @ApiLoginStartLimit()
  async attach(
    @CurrentPrincipal() principal: SessionPrincipal,
    @Body() body: PendingIdentityActionDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AttachOutcomeDto> {
    res.setHeader('Cache-Control', 'no-store');
    const outcome = await this.linking.attachPending(
      principal,
      body.pendingIdentityId,
      this.binding.read(req),
      clientMeta(req),
      safeReturnTo(body.returnTo, this.config.http.publicBaseUrl),
    );
    const providerLogoutUrl = outcome.signedOut ? await this.signOut.applyWithProviderRound(req, res) : undefined;
    return { ...outcome, ...(providerLogoutUrl ? { providerLogoutUrl } : {}) };
  }

  @Public()
  @Post('create-account')
  @ApiOperation({
    summary: 'Create a new account from it and sign in (provider policy `choose` only)',
    description: 'A browser that is signed in (a live session cookie) must send the X-CSRF-Token of that session.',
  })
  @ApiHeader({ name: CSRF_HEADER, required: false, description: 'csrfToken from GET /api/me, when signed in' })
  @ApiCreatedResponse({ type: CreatedAccountDto })
  @ApiProblems(400, 403, 404, 409, 410)
  async createAccount(
    @Body() body: PendingIdentityActionDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CreatedAccountDto> {
    const created = await this.linking.createAccountFromPending(body.pendingIdentityId, this.bindingHash(req), {
      ...clientMeta(req),
      previousSessionToken: this.sessionCookie.read(req),
    });
    this.sessionCookie.set(res, created.session.token);
    res.setHeader('Cache-Control', 'no-store');
    return { accountId: created.accountId, linkId: created.linkId };
  }

  private bindingHash(req: Request): Buffer | null {
    const binding = this.binding.read(req);
    return binding ? hashBinding(binding) : null;
  }
}
