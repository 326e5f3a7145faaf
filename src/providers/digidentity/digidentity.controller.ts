import { Body, Controller, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { clientMeta } from '../../common/http/client-meta.js';
import { BrowserLogins } from '../../auth/browser-logins.js';
import { afterLoginUrl } from '../../auth/login-outcome-pages.js';
import { ApiLoginStartLimit, ApiProblems } from '../../common/openapi/problem-responses.js';
import type { AppConfig } from '../../app/app.config.js';
import { InjectAppConfig } from '../../config/config.module.js';
import { BrowserBinding } from '../../login-transactions/browser-binding.js';
import { safeReturnTo } from '../../login-transactions/return-to.js';
import { LoginFailure, unexpectedLoginFailure } from '../../common/problem/login-failure.js';
import { Public } from '../../access/auth.decorators.js';
import { assertTrustedSource } from '../../access/csrf.js';
import { DigidentityLoginService, type PasswordlessPoll } from './digidentity-login.service.js';
import { ProviderLoginController } from '../kit/provider-login.controller.js';
import { LoginGuard } from '../kit/provider-passport.js';
import { PasswordlessStartDto, PasswordlessStatusDto, StartPasswordlessDto } from './dto/digidentity.dto.js';

@ApiTags('digidentity')
@Public()
@Controller('auth/digidentity')
export class DigidentityController extends ProviderLoginController({
  service: DigidentityLoginService,
  strategy: 'digidentity',
  login: {
    summary: 'Web login: redirects to Digidentity (SERMI Trust Centre)',
    redirect: "Redirect to Digidentity's login page; on failure to LOGIN_ERROR_URL?code=…",
  },
  callback: {
    summary: 'Web login callback: verifies the login, signs in, redirects to returnTo',
    outcome: 'Signed in: redirect to returnTo with the session cookie; otherwise to LOGIN_ERROR_URL?code=…',
  },
}) {
  constructor(
    logins: DigidentityLoginService,
    browserLogins: BrowserLogins,
    private readonly binding: BrowserBinding,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {
    super(logins, browserLogins);
  }

  @Post('passwordless')
  @ApiOperation({ summary: 'Passwordless (QR) login: start; show the QR code, then poll' })
  @ApiCreatedResponse({ type: PasswordlessStartDto })
  @ApiProblems(403, 502, 503)
  @ApiLoginStartLimit()
  async startPasswordless(
    @Body() body: StartPasswordlessDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PasswordlessStartDto> {
    assertTrustedSource(req, this.config.http.trustedOrigins);
    const returnTo = safeReturnTo(body.returnTo, this.config.http.publicBaseUrl);
    res.setHeader('Cache-Control', 'no-store');
    return this.logins.startPasswordless(
      { purpose: 'login', accountId: null, returnTo, ...this.binding.ensure(req, res) },
      clientMeta(req),
    );
  }

  @Get('passwordless/:id')
  @UseGuards(LoginGuard('digidentity-passwordless'))
  @HttpCode(200)
  @ApiOperation({ summary: 'Passwordless (QR) login: poll; on complete the session cookie is set' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: PasswordlessStatusDto })
  @ApiProblems(404, 410, 503)
  async pollPasswordless(
    @Req() req: Request & { user: PasswordlessPoll },
    @Res({ passthrough: true }) res: Response,
  ): Promise<PasswordlessStatusDto> {
    res.setHeader('Cache-Control', 'no-store');
    const poll = req.user;
    if (poll.status === 'failed') return { status: 'failed', code: poll.failure.code };
    if (poll.status !== 'complete') return { status: poll.status };
    const id = poll.login.transaction.id;
    try {
      const outcome = await this.browserLogins.complete(poll.login, req, res);
      if (outcome.kind === 'pending') {
        await this.logins.recordPasswordlessOutcome(id, 'failed', 'identity_pending');
        return { status: 'failed', code: 'identity_pending' };
      }
      await this.logins.recordPasswordlessOutcome(id, 'complete');
      if (outcome.kind === 'linked' && outcome.signedOutTo) {
        // The link replaced the login this session came through: signed out, on through the providers' pages.
        return { status: 'complete', returnTo: outcome.signedOutTo };
      }
      return { status: 'complete', returnTo: afterLoginUrl(outcome.returnTo, this.config) };
    } catch (error) {
      if (!(error instanceof LoginFailure)) {
        // Later polls would otherwise see it completing until it runs out.
        const { code } = unexpectedLoginFailure(error);
        await this.logins.recordPasswordlessOutcome(id, 'failed', code).catch(() => undefined);
        throw error;
      }
      await this.logins.recordPasswordlessOutcome(id, 'failed', error.code);
      return { status: 'failed', code: error.code };
    }
  }
}
