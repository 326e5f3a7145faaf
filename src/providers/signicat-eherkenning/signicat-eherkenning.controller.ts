import { Controller } from '@nestjs/common';
import { ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Public } from '../../access/auth.decorators.js';
import { ProviderLoginController } from '../kit/provider-login.controller.js';
import { CALLBACK_OUTCOMES } from './eherkenning-session.js';
import { SignicatEherkenningLoginService } from './signicat-eherkenning-login.service.js';

@ApiTags('signicat-eherkenning')
@Public()
@Controller('auth/signicat-eherkenning')
export class SignicatEherkenningController extends ProviderLoginController({
  service: SignicatEherkenningLoginService,
  strategy: 'signicat-eherkenning',
  login: {
    summary: 'Web login: creates a Signicat session and redirects to eHerkenning (organisations)',
    redirect: "Redirect to Signicat's eHerkenning page; on failure to LOGIN_ERROR_URL?code=…",
  },
  // Signicat's success, abort and error callbacks; the session's status at Signicat decides, not the path.
  callback: {
    path: 'callback/:outcome',
    summary: 'eHerkenning login callback: checks the Signicat session, signs in, redirects to returnTo',
    decorators: [
      ApiQuery({ name: 'sessionId', required: true, description: 'The Signicat session this browser started' }),
      ApiParam({ name: 'outcome', enum: CALLBACK_OUTCOMES }),
    ],
    outcome:
      'Signed in: redirect to returnTo with the session cookie; otherwise to LOGIN_ERROR_URL?code=… (login_cancelled, provider_error, login_expired, identity_pending…)',
  },
}) {}
