import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuthModule } from '../../auth/auth.module.js';
import { LoginTransactionsModule } from '../../login-transactions/login-transactions.module.js';
import { SessionsModule } from '../../sessions/sessions.module.js';
import { SignicatEherkenningController } from './signicat-eherkenning.controller.js';
import { SignicatEherkenningLoginService } from './signicat-eherkenning-login.service.js';
import { SignicatEherkenningGuard, SignicatEherkenningStrategy } from './signicat-eherkenning.strategies.js';

/** Signicat eHerkenning (organisation login) over the Authentication REST API: a Passport strategy on the callback. */
@Module({
  imports: [PassportModule.register({ session: false }), AuthModule, LoginTransactionsModule, SessionsModule],
  controllers: [SignicatEherkenningController],
  providers: [SignicatEherkenningLoginService, SignicatEherkenningStrategy, SignicatEherkenningGuard],
})
export class SignicatEherkenningModule {}
