import { Module } from '@nestjs/common';
import { AuditModule } from '../../audit/audit.module.js';
import { AccessLogQueryService } from './access-log-query.service.js';
import { AccessLogWriter } from './access-log-writer.js';
import { AccessLogWriterServer } from './access-log-writer-server.js';
import { AdminAccessLogChainController } from './admin-access-log-chain.controller.js';
import { AdminAccessLogController } from './admin-access-log.controller.js';
import { SermiLogSealer } from './sermi-log-sealer.js';
import { SermiLogVerifier } from './sermi-log-verifier.js';
import { SermiAccessLogRepository } from './sermi-access-log.repository.js';

/**
 * The SERMI access log: writing records (one instance for all, when configured), sealing, verification and retention
 * (write side), admin queries and export (read side).
 */
@Module({
  imports: [AuditModule],
  controllers: [AdminAccessLogController, AdminAccessLogChainController],
  providers: [
    AccessLogWriter,
    AccessLogWriterServer,
    SermiLogSealer,
    SermiLogVerifier,
    AccessLogQueryService,
    SermiAccessLogRepository,
  ],
  exports: [AccessLogWriter, SermiLogSealer, SermiLogVerifier, SermiAccessLogRepository],
})
export class AccessLogModule {}
