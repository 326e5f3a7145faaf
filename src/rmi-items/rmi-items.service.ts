import { asciiUpperCase } from '../common/http/ascii-upper-case.js';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { decodeCursor, encodeCursor } from '../common/http/cursor.js';
import { AppException } from '../common/problem/app-exception.js';
import { SqlParameters, sqlRows } from '../database/sql.js';
import { RmiItem } from './rmi-item.entity.js';
import { isRmiItemCode, RMI_ITEM_FIELDS } from './rmi-item-fields.js';
import type { ImportRow } from './rmi-item-import.js';

export interface RmiItemSearch {
  securityRelated?: boolean;
  q?: string;
  category?: string;
  limit: number;
  cursor?: string;
}

export type RmiItemFields = Pick<RmiItem, (typeof RMI_ITEM_FIELDS)[number]>;
export type RmiItemInput = Pick<RmiItem, 'code' | 'title' | 'securityRelated'> &
  Partial<Pick<RmiItem, 'category' | 'notes'>>;
/** Absent fields stay as they are; `null` clears category or notes. */
export type RmiItemChanges = Partial<RmiItemFields>;

export interface ImportSummary {
  created: number;
  updated: number;
  unchanged: number;
  total: number;
}

interface RmiItemRow {
  code: string;
  title: string;
  security_related: boolean;
  category: string | null;
  notes: string | null;
  created_at: Date;
  updated_at: Date;
}

interface ItemChange {
  code: string;
  before: RmiItemFields;
  after: RmiItemFields;
  changed: string[];
}

type StoredItem = RmiItemFields & { code: string };

const COLUMNS = 'code, title, security_related, category, notes, created_at, updated_at';

function fromRow(row: RmiItemRow): RmiItem {
  return Object.assign(new RmiItem(), {
    code: row.code,
    title: row.title,
    securityRelated: row.security_related,
    category: row.category,
    notes: row.notes,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

function fieldsOf(item: RmiItemFields): RmiItemFields {
  return { title: item.title, securityRelated: item.securityRelated, category: item.category, notes: item.notes };
}

function applyChanges(before: RmiItemFields, changes: RmiItemChanges): RmiItemFields {
  return {
    title: changes.title ?? before.title,
    securityRelated: changes.securityRelated ?? before.securityRelated,
    category: changes.category === undefined ? before.category : changes.category,
    notes: changes.notes === undefined ? before.notes : changes.notes,
  };
}

/** What changed, for the audit trail: only the changed fields, but always the classification SERMI depends on. */
function describeChange(code: string, before: RmiItemFields, after: RmiItemFields): ItemChange | null {
  const changed = RMI_ITEM_FIELDS.filter((field) => before[field] !== after[field]);
  if (changed.length === 0) return null;
  const pick = (fields: RmiItemFields) =>
    Object.fromEntries([...new Set([...changed, 'securityRelated' as const])].map((f) => [f, fields[f]]));
  return { code, before: pick(before) as RmiItemFields, after: pick(after) as RmiItemFields, changed };
}

/**
 * The manufacturer's classification of RMI items. Every change is audited in the transaction that makes it, so
 * the trail shows who made an item security-related (or not) and when.
 */
@Injectable()
export class RmiItemsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async findByCode(code: string): Promise<RmiItem | null> {
    const normalised = asciiUpperCase(code);
    if (!isRmiItemCode(normalised)) return null;
    const [row] = await sqlRows<RmiItemRow>(
      this.dataSource.manager,
      `SELECT ${COLUMNS} FROM rmi_items WHERE code = $1`,
      [normalised],
    );
    return row ? fromRow(row) : null;
  }

  /** Ordered by code, keyset-paginated on it. */
  async list(search: RmiItemSearch): Promise<{ items: RmiItem[]; nextCursor: string | null }> {
    const conditions: string[] = [];
    const params = new SqlParameters();
    if (search.securityRelated !== undefined)
      conditions.push(`security_related = ${params.add(search.securityRelated)}`);
    if (search.category !== undefined) conditions.push(`category = ${params.add(search.category)}`);
    if (search.q) {
      const pattern = params.add(`%${search.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
      conditions.push(`(code ILIKE ${pattern} OR title ILIKE ${pattern})`);
    }
    if (search.cursor) {
      const { code } = decodeCursor(search.cursor, ['code'], (p) => isRmiItemCode(p.code));
      conditions.push(`code > ${params.add(code)}`);
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const rows = await sqlRows<RmiItemRow>(
      this.dataSource.manager,
      `SELECT ${COLUMNS} FROM rmi_items ${where} ORDER BY code LIMIT ${params.add(search.limit + 1)}`,
      params.values,
    );
    const page = rows.slice(0, search.limit);
    const last = page.at(-1);
    return {
      items: page.map(fromRow),
      nextCursor: rows.length > search.limit && last ? encodeCursor({ code: last.code }) : null,
    };
  }

  async create(input: RmiItemInput, actorAccountId: string, requestId: string | null): Promise<RmiItem> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = await sqlRows<RmiItemRow>(
        manager,
        `INSERT INTO rmi_items (code, title, security_related, category, notes) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (code) DO NOTHING RETURNING ${COLUMNS}`,
        [input.code, input.title, input.securityRelated, input.category ?? null, input.notes ?? null],
      );
      if (!row) throw new AppException('rmi_item_exists', `An RMI item with code ${input.code} already exists`);
      const item = fromRow(row);
      await this.audit.record(
        {
          type: AUDIT_EVENT.rmiItemCreated,
          actor: { type: 'account', accountId: actorAccountId },
          requestId,
          details: { code: item.code, after: fieldsOf(item) },
        },
        manager,
      );
      return item;
    });
  }

  /** Returns the item as it is now; a change to the values it already has is not a change and is not audited. */
  async update(
    code: string,
    changes: RmiItemChanges,
    actorAccountId: string,
    requestId: string | null,
  ): Promise<RmiItem> {
    if (RMI_ITEM_FIELDS.every((field) => changes[field] === undefined)) {
      throw new AppException('validation_failed', 'Nothing to change', {
        errors: [
          { field: '', rule: 'minProperties', message: `at least one of ${RMI_ITEM_FIELDS.join(', ')} is required` },
        ],
      });
    }
    return this.dataSource.transaction(async (manager) => {
      const [beforeRow] = await sqlRows<RmiItemRow>(
        manager,
        `SELECT ${COLUMNS} FROM rmi_items WHERE code = $1 FOR UPDATE`,
        [code],
      );
      if (!beforeRow) throw new AppException('rmi_item_not_found', `No RMI item with code ${code}`);
      const before = fromRow(beforeRow);
      const after = applyChanges(before, changes);
      const change = describeChange(code, before, after);
      if (!change) return before;
      const [row] = await sqlRows<RmiItemRow>(
        manager,
        `UPDATE rmi_items SET title = $2, security_related = $3, category = $4, notes = $5, updated_at = now()
          WHERE code = $1 RETURNING ${COLUMNS}`,
        [code, after.title, after.securityRelated, after.category, after.notes],
      );
      await this.audit.record(
        {
          type: AUDIT_EVENT.rmiItemUpdated,
          actor: { type: 'account', accountId: actorAccountId },
          requestId,
          details: { ...change },
        },
        manager,
      );
      return fromRow(row);
    });
  }

  /**
   * Creates or updates every row in one transaction: all or nothing. Rows are expected to be validated and free
   * of duplicate codes (readJsonImport / readCsvImport). Existing rows are locked in code order, so concurrent
   * imports queue instead of deadlocking.
   */
  async import(
    rows: ImportRow[],
    actorAccountId: string,
    requestId: string | null,
    format: 'json' | 'csv',
  ): Promise<ImportSummary> {
    return this.dataSource.transaction(async (manager) => {
      const existing = await sqlRows<RmiItemRow>(
        manager,
        `SELECT ${COLUMNS} FROM rmi_items WHERE code = ANY($1::text[]) ORDER BY code FOR UPDATE`,
        [rows.map((row) => row.code)],
      );
      const stored = new Map(existing.map((row) => [row.code, fieldsOf(fromRow(row))]));
      const created: StoredItem[] = [];
      const updated: StoredItem[] = [];
      const changes: ItemChange[] = [];
      for (const row of rows) {
        const before = stored.get(row.code);
        if (!before) {
          const { code, title, securityRelated } = row;
          created.push({ code, title, securityRelated, category: row.category ?? null, notes: row.notes ?? null });
          continue;
        }
        const after = applyChanges(before, row);
        const change = describeChange(row.code, before, after);
        if (change) {
          updated.push({ code: row.code, ...after });
          changes.push(change);
        }
      }

      if (created.length > 0) {
        await sqlRows(
          manager,
          `INSERT INTO rmi_items (code, title, security_related, category, notes)
           SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::text[])`,
          columnsOf(created),
        );
      }
      if (updated.length > 0) {
        await sqlRows(
          manager,
          `UPDATE rmi_items r
              SET title = v.title, security_related = v.security_related, category = v.category, notes = v.notes,
                  updated_at = now()
             FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::text[])
                  AS v(code, title, security_related, category, notes)
            WHERE r.code = v.code`,
          columnsOf(updated),
        );
      }
      const summary = {
        created: created.length,
        updated: updated.length,
        unchanged: rows.length - created.length - updated.length,
        total: rows.length,
      };
      await this.recordImportEvents(manager, actorAccountId, requestId, [
        ...created.map((item) => ({
          type: AUDIT_EVENT.rmiItemCreated,
          details: { code: item.code, after: fieldsOf(item), source: 'import' },
        })),
        ...changes.map((change) => ({ type: AUDIT_EVENT.rmiItemUpdated, details: { ...change, source: 'import' } })),
        { type: AUDIT_EVENT.rmiItemsImported, details: { format, ...summary } },
      ]);
      return summary;
    });
  }

  /** All events of an import in one statement. */
  private async recordImportEvents(
    manager: EntityManager,
    actorAccountId: string,
    requestId: string | null,
    events: Array<{ type: string; details: Record<string, unknown> }>,
  ): Promise<void> {
    const actor = { type: 'account' as const, accountId: actorAccountId };
    await this.audit.recordAll(
      events.map((event) => ({ ...event, actor, requestId })),
      manager,
    );
  }
}

function columnsOf(items: StoredItem[]): unknown[] {
  return [
    items.map((item) => item.code),
    items.map((item) => item.title),
    items.map((item) => item.securityRelated),
    items.map((item) => item.category),
    items.map((item) => item.notes),
  ];
}
