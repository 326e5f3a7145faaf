import { Module } from '@nestjs/common';
import { providerModule } from '../kit/provider-module.js';
import { OidcCallbackStrategy } from '../kit/provider-passport.js';
import { ItsmeController } from './itsme.controller.js';
import { ItsmeLoginService } from './itsme-login.service.js';

/** itsme over OIDC (private_key_jwt, encrypted request object, nested JWT responses): web login and our JWKS. */
@Module(
  providerModule({
    controllers: [ItsmeController],
    providers: [ItsmeLoginService, OidcCallbackStrategy('itsme', ItsmeLoginService)],
  }),
)
export class ItsmeModule {}
