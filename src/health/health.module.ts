import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AccessLogModule } from '../sermi/access-log/access-log.module.js';
import { HealthController } from './health.controller.js';

@Module({ imports: [AccessLogModule, AuditModule], controllers: [HealthController] })
export class HealthModule {}
