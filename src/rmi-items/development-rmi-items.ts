import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { jsonb, sqlRows } from '../database/sql.js';

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
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.env !== 'development') return;
    await this.dataSource.transaction(async (manager) => {
      const seeded = await sqlRows<{ code: string }>(
        manager,
        `INSERT INTO rmi_items (code, title, security_related, category)
         SELECT s.code, s.title, s.security_related, s.category
           FROM jsonb_to_recordset($1::jsonb) AS s(code text, title text, security_related boolean, category text)
          WHERE NOT EXISTS (SELECT 1 FROM rmi_items)
         ON CONFLICT (code) DO NOTHING
         RETURNING code`,
        [
          jsonb(
            DEVELOPMENT_RMI_ITEMS.map((item) => ({
              code: item.code,
              title: item.title,
              security_related: item.securityRelated,
              category: item.category,
            })),
          ),
        ],
      );
      if (seeded.length === 0) return;
      await this.audit.record(
        {
          type: AUDIT_EVENT.rmiItemsSeeded,
          actor: { type: 'system' },
          requestId: null,
          details: { codes: seeded.map((row) => row.code), reason: 'development database without RMI items' },
        },
        manager,
      );
    });
  }
}
