import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { PendingIdentitiesModule } from '../pending-identities/pending-identities.module.js';
import { RebindRequestsRepository } from './rebind-requests.repository.js';
import { AuthModule } from '../auth/auth.module.js';
import { IdentityLinksModule } from '../identity-links/identity-links.module.js';
import { LoginTransactionsModule } from '../login-transactions/login-transactions.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { AdminRebindController } from './admin-rebind.controller.js';
import { LinkingService } from './linking.service.js';
import { MeLinksController } from './me-links.controller.js';
import { PendingIdentityHousekeeping } from './pending-identity-housekeeping.js';
import { PendingIdentityController } from './pending-identity.controller.js';
import { ReauthenticateController } from './reauthenticate.controller.js';
import { RebindService } from './rebind.service.js';

/** Account linking: self-service links and pending identities, re-authentication, and admin re-binding. */
import { PendingAttachFollowUp } from './pending-attach.follow-up.js';

@Module({
  imports: [
    AccountsModule,
    AuditModule,
    AuthModule,
    IdentityLinksModule,
    LoginTransactionsModule,
    PendingIdentitiesModule,
    SessionsModule,
  ],
  controllers: [MeLinksController, PendingIdentityController, ReauthenticateController, AdminRebindController],
  providers: [
    LinkingService,
    RebindService,
    RebindRequestsRepository,
    PendingIdentityHousekeeping,
    PendingAttachFollowUp,
  ],
  exports: [LinkingService, RebindService],
})
export class LinkingModule {}
