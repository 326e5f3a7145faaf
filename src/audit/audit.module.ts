import { Module } from '@nestjs/common';
import { AdminAuditController } from './admin-audit.controller.js';
import { AuditQueryService } from './audit-query.service.js';
import { AuditSealer } from './audit-sealer.js';
import { AuditService } from './audit.service.js';

@Module({
  controllers: [AdminAuditController],
  providers: [AuditService, AuditQueryService, AuditSealer],
  exports: [AuditService, AuditSealer],
})
export class AuditModule {}
