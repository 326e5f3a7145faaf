import { Module } from '@nestjs/common';
import { BrowserSignOut } from './browser-sign-out.js';
import { AuditModule } from '../audit/audit.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { UserMappingModule } from '../user-mapping/user-mapping.module.js';
import { LoginCompletionService } from './login-completion.service.js';
import { LoginRedirectFilter } from './login-redirect.filter.js';
import { LoginStarters } from './login-starters.js';
import { BrowserLogins, LoginFollowUps } from './browser-logins.js';
import { LoginTransactionsModule } from '../login-transactions/login-transactions.module.js';
import { IdentityLinksModule } from '../identity-links/identity-links.module.js';
import { LogoutController } from './logout.controller.js';
import { AccessLogModule } from '../sermi/access-log/access-log.module.js';
import { PendingIdentitiesModule } from '../pending-identities/pending-identities.module.js';
import { ProviderLogout } from './provider-logout.js';

/** What every provider module shares, all of it theirs to use too. */
const SHARED = [
  LoginCompletionService,
  LoginRedirectFilter,
  LoginStarters,
  BrowserLogins,
  LoginFollowUps,
  BrowserSignOut,
  ProviderLogout,
];

/** What every provider module shares: completing a login, reporting its failures, signing out. */
@Module({
  imports: [
    AuditModule,
    SessionsModule,
    UserMappingModule,
    LoginTransactionsModule,
    IdentityLinksModule,
    PendingIdentitiesModule,
    AccessLogModule,
  ],
  controllers: [LogoutController],
  providers: SHARED,
  exports: SHARED,
})
export class AuthModule {}
