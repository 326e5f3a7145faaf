import { Controller, Get, Header, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { BrowserLogins } from '../../auth/browser-logins.js';
import { LoginRedirectFilter } from '../../auth/login-redirect.filter.js';
import type { VerifiedLogin } from '../../auth/verified-login.js';
import type { Jwk } from '../../oidc/jws-verify.js';
import { Public } from '../../access/auth.decorators.js';
import { LoginQueryDto } from '../../auth/dto/login-query.dto.js';
import { ItsmeLoginService } from './itsme-login.service.js';
import { ItsmeGuard } from './itsme.strategies.js';
import { ApiLoginStartLimit } from '../../common/openapi/problem-responses.js';

@ApiTags('itsme')
@Public()
@Controller('auth/itsme')
export class ItsmeController {
  constructor(
    private readonly logins: ItsmeLoginService,
    private readonly browserLogins: BrowserLogins,
  ) {}

  @Get('login')
  @UseFilters(LoginRedirectFilter)
  @ApiOperation({ summary: 'Web login: redirects to itsme (encrypted request object, PKCE)' })
  @ApiFoundResponse({ description: "Redirect to itsme's sign-in page; on failure to LOGIN_ERROR_URL?code=…" })
  @ApiLoginStartLimit()
  async login(@Query() query: LoginQueryDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.browserLogins.redirectToProvider(this.logins, query, req, res);
  }

  /** Query parameters are itsme's (code, state, error…); the strategy reads and checks them. */
  @Get('callback')
  @UseGuards(ItsmeGuard)
  @UseFilters(LoginRedirectFilter)
  @ApiOperation({ summary: 'itsme login callback: verifies the login, signs in, redirects to returnTo' })
  @ApiFoundResponse({
    description:
      'Signed in: redirect to returnTo with the session cookie; otherwise to LOGIN_ERROR_URL?code=… (identity_pending: the itsme identity is not linked to an account yet)',
  })
  async callback(
    @Query() _providerParameters: Record<string, unknown>,
    @Req() req: Request & { user: VerifiedLogin },
    @Res() res: Response,
  ): Promise<void> {
    await this.browserLogins.completeAndRedirect(req.user, req, res);
  }

  /** Fetched by itsme (it caches it for 30 min to 24 h): our public signing and encryption keys. */
  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({
    summary: 'Our public keys for itsme: request object / client assertion signatures, response encryption',
  })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: true } } },
    },
  })
  jwks(): { keys: Jwk[] } {
    return this.logins.publicJwks();
  }
}
