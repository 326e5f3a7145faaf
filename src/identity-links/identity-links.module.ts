import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { IdentityLinksService } from './identity-links.service.js';

@Module({ imports: [AuditModule, SessionsModule], providers: [IdentityLinksService], exports: [IdentityLinksService] })
export class IdentityLinksModule {}
