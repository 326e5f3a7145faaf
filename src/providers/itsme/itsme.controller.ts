import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../access/auth.decorators.js';
import type { Jwk } from '../../oidc/jws-verify.js';
import { ProviderLoginController } from '../kit/provider-login.controller.js';
import { ItsmeLoginService } from './itsme-login.service.js';

@ApiTags('itsme')
@Public()
@Controller('auth/itsme')
export class ItsmeController extends ProviderLoginController({
  service: ItsmeLoginService,
  strategy: 'itsme',
  login: {
    summary: 'Web login: redirects to itsme (encrypted request object, PKCE)',
    redirect: "Redirect to itsme's sign-in page; on failure to LOGIN_ERROR_URL?code=…",
  },
  callback: {
    summary: 'itsme login callback: verifies the login, signs in, redirects to returnTo',
    outcome:
      'Signed in: redirect to returnTo with the session cookie; otherwise to LOGIN_ERROR_URL?code=… (identity_pending: the itsme identity is not linked to an account yet)',
  },
}) {
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
