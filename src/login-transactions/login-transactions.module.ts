import { Module } from '@nestjs/common';
import { BrowserBinding } from './browser-binding.js';
import { LoginTransactionsService } from './login-transactions.service.js';

@Module({ providers: [LoginTransactionsService, BrowserBinding], exports: [LoginTransactionsService, BrowserBinding] })
export class LoginTransactionsModule {}
