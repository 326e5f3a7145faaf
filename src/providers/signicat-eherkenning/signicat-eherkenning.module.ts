import { Module } from '@nestjs/common';
import { providerModule } from '../kit/provider-module.js';
import { ProviderStrategy } from '../kit/provider-passport.js';
import { SignicatEherkenningController } from './signicat-eherkenning.controller.js';
import { SignicatEherkenningLoginService } from './signicat-eherkenning-login.service.js';

/** Signicat eHerkenning (organisation login) over the Authentication REST API: a Passport strategy on the callback. */
@Module(
  providerModule({
    controllers: [SignicatEherkenningController],
    providers: [
      SignicatEherkenningLoginService,
      // Checks the session id and Signicat's session, yields the VerifiedLogin.
      ProviderStrategy('signicat-eherkenning', SignicatEherkenningLoginService, (logins, req, browserBinding, meta) =>
        logins.completeCallback(String(req.params.outcome), req, browserBinding, meta),
      ),
    ],
  }),
)
export class SignicatEherkenningModule {}
