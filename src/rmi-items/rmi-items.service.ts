import { asciiUpperCase } from '../common/http/ascii-upper-case.js';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { AppException } from '../common/problem/app-exception.js';
import type { KeysetPage } from '../common/http/keyset.js';
import { RmiItem } from './rmi-item.entity.js';
import { isRmiItemCode, RMI_ITEM_FIELDS } from './rmi-item-fields.js';
import type { ImportRow } from './rmi-item-import.js';
import { type RmiItemSearch, RmiItemsRepository, type StoredRmiItem } from './rmi-items.repository.js';

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

interface ItemChange {
  code: string;
  before: RmiItemFields;
  after: RmiItemFields;
  changed: string[];
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
    private readonly items: RmiItemsRepository,
  ) {}

  async findByCode(code: string): Promise<RmiItem | null> {
    const normalised = asciiUpperCase(code);
    if (!isRmiItemCode(normalised)) return null;
    return this.items.findByCode(this.dataSource.manager, normalised);
  }

  /** Ordered by code, keyset-paginated on it. */
  list(search: RmiItemSearch): Promise<KeysetPage<RmiItem>> {
    return this.items.list(this.dataSource.manager, search);
  }

  async create(input: RmiItemInput, actorAccountId: string, requestId: string | null): Promise<RmiItem> {
    return this.dataSource.transaction(async (manager) => {
      const { code, title, securityRelated } = input;
      const item = await this.items.insert(manager, {
        code,
        title,
        securityRelated,
        category: input.category ?? null,
        notes: input.notes ?? null,
      });
      if (!item) throw new AppException('rmi_item_exists', `An RMI item with code ${input.code} already exists`);
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
      const before = await this.items.lockByCode(manager, code);
      if (!before) throw new AppException('rmi_item_not_found', `No RMI item with code ${code}`);
      const after = applyChanges(before, changes);
      const change = describeChange(code, before, after);
      if (!change) return before;
      const updated = await this.items.update(manager, { code, ...after });
      await this.audit.record(
        {
          type: AUDIT_EVENT.rmiItemUpdated,
          actor: { type: 'account', accountId: actorAccountId },
          requestId,
          details: { ...change },
        },
        manager,
      );
      return updated;
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
      const existing = await this.items.lockByCodes(
        manager,
        rows.map((row) => row.code),
      );
      const stored = new Map(existing.map((item) => [item.code, fieldsOf(item)]));
      const created: StoredRmiItem[] = [];
      const updated: StoredRmiItem[] = [];
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

      if (created.length > 0) await this.items.insertMany(manager, created);
      if (updated.length > 0) await this.items.updateMany(manager, updated);
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
