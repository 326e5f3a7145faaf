import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AdminRmiItemsController } from './admin-rmi-items.controller.js';
import { RmiItemsService } from './rmi-items.service.js';
import { DevelopmentRmiItems } from './development-rmi-items.js';
import { RmiItemsRepository } from './rmi-items.repository.js';

@Module({
  imports: [AuditModule],
  controllers: [AdminRmiItemsController],
  providers: [RmiItemsService, RmiItemsRepository, DevelopmentRmiItems],
  exports: [RmiItemsService, RmiItemsRepository],
})
export class RmiItemsModule {}
