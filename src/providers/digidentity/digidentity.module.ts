import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuthModule } from '../../auth/auth.module.js';
import { LoginTransactionsModule } from '../../login-transactions/login-transactions.module.js';
import { SessionsModule } from '../../sessions/sessions.module.js';
import { DigidentityController } from './digidentity.controller.js';
import { DigidentityLoginService } from './digidentity-login.service.js';
import {
  DigidentityPasswordlessGuard,
  DigidentityPasswordlessStrategy,
  DigidentityWebGuard,
  DigidentityWebStrategy,
} from './digidentity.strategies.js';

/** Digidentity (SERMI Trust Centre): web and passwordless login, each a Passport strategy. */
@Module({
  imports: [PassportModule.register({ session: false }), AuthModule, LoginTransactionsModule, SessionsModule],
  controllers: [DigidentityController],
  providers: [
    DigidentityLoginService,
    DigidentityWebStrategy,
    DigidentityPasswordlessStrategy,
    DigidentityWebGuard,
    DigidentityPasswordlessGuard,
  ],
})
export class DigidentityModule {}
