import { Module } from '@nestjs/common';
import { providerModule } from '../kit/provider-module.js';
import { OidcCallbackStrategy } from '../kit/provider-passport.js';
import { SignicatIdinController } from './signicat-idin.controller.js';
import { SignicatIdinLoginService } from './signicat-idin-login.service.js';

/** Signicat iDIN (Dutch bank identity) over OIDC: web login only, a Passport strategy on the callback. */
@Module(
  providerModule({
    controllers: [SignicatIdinController],
    providers: [SignicatIdinLoginService, OidcCallbackStrategy('signicat-idin', SignicatIdinLoginService)],
  }),
)
export class SignicatIdinModule {}
