import { Controller } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '../../access/auth.decorators.js';
import { ProviderLoginController } from '../kit/provider-login.controller.js';
import { SignicatIdinLoginService } from './signicat-idin-login.service.js';

@ApiTags('signicat-idin')
@Public()
@Controller('auth/signicat-idin')
export class SignicatIdinController extends ProviderLoginController({
  service: SignicatIdinLoginService,
  strategy: 'signicat-idin',
  login: {
    summary: 'Web login: redirects to iDIN (through Signicat) to sign in with a Dutch bank',
    redirect: "Redirect to Signicat's iDIN page; on failure to LOGIN_ERROR_URL?code=…",
  },
  callback: {
    summary: 'iDIN login callback: verifies the login, signs in, redirects to returnTo',
    outcome:
      'Signed in: redirect to returnTo with the session cookie; otherwise to LOGIN_ERROR_URL?code=… (identity_pending: the iDIN identity is not linked to an account yet)',
  },
}) {}
