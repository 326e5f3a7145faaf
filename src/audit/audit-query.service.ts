import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { decodeCursor } from '../common/http/cursor.js';
import { keysetPage } from '../common/http/keyset.js';
import { listEvents } from './audit-events.repository.js';
import type { AuditEventDto } from './dto/audit-event.dto.js';
import type { AuditEventQueryDto } from './dto/audit-event-query.dto.js';

const MAX_BIGINT = 2n ** 63n - 1n;

/** Read side of the audit trail for administrators: newest first, keyset-paginated on seq (it never changes). */
@Injectable()
export class AuditQueryService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(query: AuditEventQueryDto): Promise<{ items: AuditEventDto[]; nextCursor: string | null }> {
    const beforeSeq = query.cursor
      ? decodeCursor(query.cursor, ['seq'], (p) => /^[1-9]\d{0,18}$/.test(p.seq) && BigInt(p.seq) <= MAX_BIGINT).seq
      : undefined;
    const rows = await listEvents(this.dataSource.manager, {
      type: query.type,
      accountId: query.accountId,
      from: query.from,
      to: query.to,
      beforeSeq,
      limit: query.limit + 1,
    });
    return keysetPage(
      rows,
      query.limit,
      (last) => ({ seq: last.seq }),
      (row): AuditEventDto => ({
        seq: row.seq,
        id: row.id,
        type: row.type,
        actorType: row.actor_type,
        actorAccountId: row.actor_account_id,
        subjectAccountId: row.subject_account_id,
        details: row.details,
        requestId: row.request_id,
        occurredAt: row.occurred_at.toISOString(),
        hash: row.hash.toString('hex'),
      }),
    );
  }
}
