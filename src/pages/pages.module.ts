import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { AssetsController } from './common/assets.controller.js';
import { PageAssets } from './common/page-assets.js';
import { PageErrorFilter } from './common/page-error.filter.js';
import { PageRenderer } from './common/page-renderer.js';
import { SignInController } from './sign-in/sign-in.controller.js';
import { PendingPageController } from './pending/pending.controller.js';
import { AccountPageController } from './account/account.controller.js';
import { ConsolePageController } from './console/console.controller.js';
import { LoginErrorController } from './error/login-error.controller.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { LinkingModule } from '../linking/linking.module.js';
import { LoginTransactionsModule } from '../login-transactions/login-transactions.module.js';

/**
 * The pages the backend serves itself — sign-in, pending identity, my account, the support-desk console — on the
 * same services as the REST API. Server-rendered (nunjucks, escaped), with static CSS and scripts only.
 */
@Module({
  imports: [AuthModule, LinkingModule, LoginTransactionsModule, SessionsModule],
  controllers: [
    AssetsController,
    SignInController,
    PendingPageController,
    AccountPageController,
    ConsolePageController,
    LoginErrorController,
  ],
  providers: [{ provide: PageAssets, useFactory: () => new PageAssets() }, PageRenderer, PageErrorFilter],
  exports: [PageRenderer, PageAssets, PageErrorFilter],
})
export class PagesModule {}
