import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { IdentityLinksRepository } from './identity-links.repository.js';
import { IdentityLinksService } from './identity-links.service.js';

@Module({
  imports: [AccountsModule, AuditModule, SessionsModule],
  providers: [IdentityLinksService, IdentityLinksRepository],
  exports: [IdentityLinksService, IdentityLinksRepository],
})
export class IdentityLinksModule {}
