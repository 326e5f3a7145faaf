import { Controller, Get, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { BrowserLogins } from '../../auth/browser-logins.js';
import { LoginRedirectFilter } from '../../auth/login-redirect.filter.js';
import type { VerifiedLogin } from '../../auth/verified-login.js';
import { Public } from '../../access/auth.decorators.js';
import { LoginQueryDto } from '../../auth/dto/login-query.dto.js';
import { SignicatIdinLoginService } from './signicat-idin-login.service.js';
import { SignicatIdinGuard } from './signicat-idin.strategies.js';
import { ApiLoginStartLimit } from '../../common/openapi/problem-responses.js';

@ApiTags('signicat-idin')
@Public()
@Controller('auth/signicat-idin')
export class SignicatIdinController {
  constructor(
    private readonly logins: SignicatIdinLoginService,
    private readonly browserLogins: BrowserLogins,
  ) {}

  @Get('login')
  @UseFilters(LoginRedirectFilter)
  @ApiOperation({ summary: 'Web login: redirects to iDIN (through Signicat) to sign in with a Dutch bank' })
  @ApiFoundResponse({ description: "Redirect to Signicat's iDIN page; on failure to LOGIN_ERROR_URL?code=…" })
  @ApiLoginStartLimit()
  async login(@Query() query: LoginQueryDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.browserLogins.redirectToProvider(this.logins, query, req, res);
  }

  /** Query parameters are Signicat's (code, state, iss, error…); the strategy reads and checks them. */
  @Get('callback')
  @UseGuards(SignicatIdinGuard)
  @UseFilters(LoginRedirectFilter)
  @ApiOperation({ summary: 'iDIN login callback: verifies the login, signs in, redirects to returnTo' })
  @ApiFoundResponse({
    description:
      'Signed in: redirect to returnTo with the session cookie; otherwise to LOGIN_ERROR_URL?code=… (identity_pending: the iDIN identity is not linked to an account yet)',
  })
  async callback(
    @Query() _providerParameters: Record<string, unknown>,
    @Req() req: Request & { user: VerifiedLogin },
    @Res() res: Response,
  ): Promise<void> {
    await this.browserLogins.completeAndRedirect(req.user, req, res);
  }
}
