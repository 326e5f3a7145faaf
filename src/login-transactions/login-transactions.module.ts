import { Module } from '@nestjs/common';
import { BrowserBinding } from './browser-binding.js';
import { LoginStartCountersRepository } from './login-start-counters.repository.js';
import { LoginTransactionsRepository } from './login-transactions.repository.js';
import { LoginTransactionsService } from './login-transactions.service.js';

@Module({
  providers: [LoginTransactionsService, LoginTransactionsRepository, LoginStartCountersRepository, BrowserBinding],
  exports: [LoginTransactionsService, LoginTransactionsRepository, LoginStartCountersRepository, BrowserBinding],
})
export class LoginTransactionsModule {}
