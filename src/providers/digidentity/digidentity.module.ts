import { Module } from '@nestjs/common';
import { providerModule } from '../kit/provider-module.js';
import { DigidentityController } from './digidentity.controller.js';
import { DigidentityLoginService } from './digidentity-login.service.js';
import { DigidentityPasswordlessStrategy, DigidentityWebStrategy } from './digidentity.strategies.js';

/** Digidentity (SERMI Trust Centre): web and passwordless login, each a Passport strategy. */
@Module(
  providerModule({
    controllers: [DigidentityController],
    providers: [DigidentityLoginService, DigidentityWebStrategy, DigidentityPasswordlessStrategy],
  }),
)
export class DigidentityModule {}
