import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { RmiItemsRepository } from './rmi-items.repository.js';

/**
 * A few items of each kind, so the SERMI examples of docs/sermi.md#access-decisions answer on a fresh development
 * database.
 */
export const DEVELOPMENT_RMI_ITEMS = [
  { code: 'IMMO_KEY_PROGRAMMING', title: 'Key programming (immobiliser)', securityRelated: true, category: 'keys' },
  { code: 'DOOR_LOCK_CYLINDER', title: 'Door lock cylinder replacement', securityRelated: true, category: 'locks' },
  { code: 'SERVICE_SCHEDULE', title: 'Service schedule', securityRelated: false, category: 'maintenance' },
  { code: 'BRAKE_PAD_REPLACEMENT', title: 'Brake pad replacement', securityRelated: false, category: 'brakes' },
] as const;

/**
 * In development only (NODE_ENV=development), an empty classification gets DEVELOPMENT_RMI_ITEMS, audited as the
 * system's. Never again once anything is classified, and never in test or production.
 */
@Injectable()
export class DevelopmentRmiItems implements OnApplicationBootstrap {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @InjectAppConfig() private readonly config: AppConfig,
    private readonly items: RmiItemsRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.env !== 'development') return;
    await this.dataSource.transaction(async (manager) => {
      const seeded = await this.items.seedIfEmpty(manager, DEVELOPMENT_RMI_ITEMS);
      if (seeded.length === 0) return;
      await this.audit.record(
        {
          type: AUDIT_EVENT.rmiItemsSeeded,
          actor: { type: 'system' },
          requestId: null,
          details: { codes: seeded, reason: 'development database without RMI items' },
        },
        manager,
      );
    });
  }
}
