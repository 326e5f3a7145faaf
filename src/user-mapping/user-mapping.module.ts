import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { UserMappingService } from './user-mapping.service.js';

@Module({ imports: [AuditModule], providers: [UserMappingService], exports: [UserMappingService] })
export class UserMappingModule {}
