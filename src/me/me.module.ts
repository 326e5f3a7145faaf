import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { MeController } from './me.controller.js';

@Module({ imports: [AccountsModule], controllers: [MeController] })
export class MeModule {}
