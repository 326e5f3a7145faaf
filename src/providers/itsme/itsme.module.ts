import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuthModule } from '../../auth/auth.module.js';
import { LoginTransactionsModule } from '../../login-transactions/login-transactions.module.js';
import { SessionsModule } from '../../sessions/sessions.module.js';
import { ItsmeController } from './itsme.controller.js';
import { ItsmeLoginService } from './itsme-login.service.js';
import { ItsmeGuard, ItsmeStrategy } from './itsme.strategies.js';

/** itsme over OIDC (private_key_jwt, encrypted request object, nested JWT responses): web login and our JWKS. */
@Module({
  imports: [PassportModule.register({ session: false }), AuthModule, LoginTransactionsModule, SessionsModule],
  controllers: [ItsmeController],
  providers: [ItsmeLoginService, ItsmeStrategy, ItsmeGuard],
})
export class ItsmeModule {}
