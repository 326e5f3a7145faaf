import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuthModule } from '../../auth/auth.module.js';
import { LoginTransactionsModule } from '../../login-transactions/login-transactions.module.js';
import { SessionsModule } from '../../sessions/sessions.module.js';
import { SignicatIdinController } from './signicat-idin.controller.js';
import { SignicatIdinLoginService } from './signicat-idin-login.service.js';
import { SignicatIdinGuard, SignicatIdinStrategy } from './signicat-idin.strategies.js';

/** Signicat iDIN (Dutch bank identity) over OIDC: web login only, a Passport strategy on the callback. */
@Module({
  imports: [PassportModule.register({ session: false }), AuthModule, LoginTransactionsModule, SessionsModule],
  controllers: [SignicatIdinController],
  providers: [SignicatIdinLoginService, SignicatIdinStrategy, SignicatIdinGuard],
})
export class SignicatIdinModule {}
