import { Module } from '@nestjs/common';
import { BrowserBinding } from './browser-binding.js';
import { LoginStartCountersRepository } from './login-start-counters.repository.js';
import { LoginTransactionsRepository } from './login-transactions.repository.js';
import { LoginTransactionsService } from './login-transactions.service.js';
import { SignOutHintsRepository } from './sign-out-hints.repository.js';

const SHARED = [
  LoginTransactionsService,
  LoginTransactionsRepository,
  LoginStartCountersRepository,
  SignOutHintsRepository,
  BrowserBinding,
];

@Module({ providers: SHARED, exports: SHARED })
export class LoginTransactionsModule {}
