import { Controller, Get, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiFoundResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { BrowserLogins } from '../../auth/browser-logins.js';
import { LoginRedirectFilter } from '../../auth/login-redirect.filter.js';
import type { VerifiedLogin } from '../../auth/verified-login.js';
import { Public } from '../../access/auth.decorators.js';
import { LoginQueryDto } from '../../auth/dto/login-query.dto.js';
import { CALLBACK_OUTCOMES } from './eherkenning-session.js';
import { SignicatEherkenningLoginService } from './signicat-eherkenning-login.service.js';
import { SignicatEherkenningGuard } from './signicat-eherkenning.strategies.js';
import { ApiLoginStartLimit } from '../../common/openapi/problem-responses.js';

@ApiTags('signicat-eherkenning')
@Public()
@Controller('auth/signicat-eherkenning')
export class SignicatEherkenningController {
  constructor(
    private readonly logins: SignicatEherkenningLoginService,
    private readonly browserLogins: BrowserLogins,
  ) {}

  @Get('login')
  @UseFilters(LoginRedirectFilter)
  @ApiOperation({ summary: 'Web login: creates a Signicat session and redirects to eHerkenning (organisations)' })
  @ApiFoundResponse({ description: "Redirect to Signicat's eHerkenning page; on failure to LOGIN_ERROR_URL?code=…" })
  @ApiLoginStartLimit()
  async login(@Query() query: LoginQueryDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.browserLogins.redirectToProvider(this.logins, query, req, res);
  }

  /** Signicat's success, abort and error callbacks; the session's status at Signicat decides, not the path. */
  @Get('callback/:outcome')
  @UseGuards(SignicatEherkenningGuard)
  @UseFilters(LoginRedirectFilter)
  @ApiOperation({ summary: 'eHerkenning login callback: checks the Signicat session, signs in, redirects to returnTo' })
  @ApiParam({ name: 'outcome', enum: CALLBACK_OUTCOMES })
  @ApiQuery({ name: 'sessionId', required: true, description: 'The Signicat session this browser started' })
  @ApiFoundResponse({
    description:
      'Signed in: redirect to returnTo with the session cookie; otherwise to LOGIN_ERROR_URL?code=… (login_cancelled, provider_error, login_expired, identity_pending…)',
  })
  async callback(
    @Query() _providerParameters: Record<string, unknown>,
    @Req() req: Request & { user: VerifiedLogin },
    @Res() res: Response,
  ): Promise<void> {
    await this.browserLogins.completeAndRedirect(req.user, req, res);
  }
}
