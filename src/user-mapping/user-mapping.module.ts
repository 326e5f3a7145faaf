import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { IdentityLinksModule } from '../identity-links/identity-links.module.js';
import { PendingIdentitiesModule } from '../pending-identities/pending-identities.module.js';
import { UserMappingService } from './user-mapping.service.js';

@Module({
  imports: [AccountsModule, AuditModule, IdentityLinksModule, PendingIdentitiesModule],
  providers: [UserMappingService],
  exports: [UserMappingService],
})
export class UserMappingModule {}
