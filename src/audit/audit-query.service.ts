import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { decodeCursor, encodeCursor } from '../common/http/cursor.js';
import { SqlParameters, sqlRows } from '../database/sql.js';
import type { AuditEventDto } from './dto/audit-event.dto.js';
import type { AuditEventQueryDto } from './dto/audit-event-query.dto.js';

const MAX_BIGINT = 2n ** 63n - 1n;

interface AuditRow {
  seq: string;
  id: string;
  type: string;
  actor_type: string;
  actor_account_id: string | null;
  subject_account_id: string | null;
  details: Record<string, unknown>;
  request_id: string | null;
  occurred_at: Date;
  hash: Buffer;
}

/** Read side of the audit trail for administrators: newest first, keyset-paginated on the chain position. */
@Injectable()
export class AuditQueryService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(query: AuditEventQueryDto): Promise<{ items: AuditEventDto[]; nextCursor: string | null }> {
    const conditions: string[] = [];
    const params = new SqlParameters();
    if (query.type?.endsWith('.*')) conditions.push(`starts_with(type, ${params.add(query.type.slice(0, -1))})`);
    else if (query.type) conditions.push(`type = ${params.add(query.type)}`);
    if (query.accountId) {
      const id = params.add(query.accountId);
      conditions.push(`(actor_account_id = ${id} OR subject_account_id = ${id})`);
    }
    if (query.from) conditions.push(`occurred_at >= ${params.add(query.from)}::timestamptz`);
    if (query.to) conditions.push(`occurred_at < ${params.add(query.to)}::timestamptz`);
    if (query.cursor) {
      const { seq } = decodeCursor(
        query.cursor,
        ['seq'],
        (p) => /^[1-9]\d{0,18}$/.test(p.seq) && BigInt(p.seq) <= MAX_BIGINT,
      );
      conditions.push(`seq < ${params.add(seq)}::bigint`);
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const rows = await sqlRows<AuditRow>(
      this.dataSource.manager,
      `SELECT seq, id, type, actor_type, actor_account_id, subject_account_id, details, request_id, occurred_at, hash
         FROM audit_events ${where} ORDER BY seq DESC LIMIT ${params.add(query.limit + 1)}`,
      params.values,
    );
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => ({
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
      })),
      nextCursor: rows.length > query.limit && last ? encodeCursor({ seq: last.seq }) : null,
    };
  }
}
