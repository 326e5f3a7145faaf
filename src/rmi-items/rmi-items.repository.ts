// Owns every statement on `rmi_items`; other modules' statements that read the classification assemble the
// fragments exported here (rmiItemJoin, securityRelatedItem).
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { decodeCursor } from '../common/http/cursor.js';
import { type KeysetPage, keysetPage } from '../common/http/keyset.js';
import { jsonb, SqlParameters, sqlRows } from '../database/sql.js';
import { RmiItem } from './rmi-item.entity.js';
import { isRmiItemCode } from './rmi-item-fields.js';

export interface RmiItemSearch {
  securityRelated?: boolean;
  q?: string;
  category?: string;
  limit: number;
  cursor?: string;
}

/** An item's stored values, without its timestamps. */
export type StoredRmiItem = Pick<RmiItem, 'code' | 'title' | 'securityRelated' | 'category' | 'notes'>;

interface RmiItemRow {
  code: string;
  title: string;
  security_related: boolean;
  category: string | null;
  notes: string | null;
  created_at: Date;
  updated_at: Date;
}

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

/** `JOIN rmi_items <alias> ON <alias>.code = <code>`: the item's `code`, `title` and `security_related`. */
export const rmiItemJoin = (alias: string, code: string) => `JOIN rmi_items ${alias} ON ${alias}.code = ${code}`;

/** A row when the item `code` names is security-related, none otherwise (unknown items included). */
export const securityRelatedItem = (code: string) =>
  `SELECT 1 FROM rmi_items WHERE code = ${code} AND security_related`;

/** Parallel arrays of the stored values ($1 codes … $5 notes), for the unnest statements. */
function columnsOf(items: StoredRmiItem[]): unknown[] {
  return [
    items.map((item) => item.code),
    items.map((item) => item.title),
    items.map((item) => item.securityRelated),
    items.map((item) => item.category),
    items.map((item) => item.notes),
  ];
}

@Injectable()
export class RmiItemsRepository {
  async findByCode(manager: EntityManager, code: string): Promise<RmiItem | null> {
    const [row] = await sqlRows<RmiItemRow>(manager, `SELECT ${COLUMNS} FROM rmi_items WHERE code = $1`, [code]);
    return row ? fromRow(row) : null;
  }

  /** Ordered by code, keyset-paginated on it; a cursor that is not one of this list's is `invalid_cursor`. */
  async list(manager: EntityManager, search: RmiItemSearch): Promise<KeysetPage<RmiItem>> {
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
      manager,
      `SELECT ${COLUMNS} FROM rmi_items ${where} ORDER BY code LIMIT ${params.add(search.limit + 1)}`,
      params.values,
    );
    return keysetPage(rows, search.limit, (last) => ({ code: last.code }), fromRow);
  }

  /** The item, locked until the transaction ends. */
  async lockByCode(manager: EntityManager, code: string): Promise<RmiItem | null> {
    const [row] = await sqlRows<RmiItemRow>(manager, `SELECT ${COLUMNS} FROM rmi_items WHERE code = $1 FOR UPDATE`, [
      code,
    ]);
    return row ? fromRow(row) : null;
  }

  /** The existing items among `codes`, locked in code order (so that concurrent callers queue, never deadlock). */
  async lockByCodes(manager: EntityManager, codes: string[]): Promise<RmiItem[]> {
    const rows = await sqlRows<RmiItemRow>(
      manager,
      `SELECT ${COLUMNS} FROM rmi_items WHERE code = ANY($1::text[]) ORDER BY code FOR UPDATE`,
      [codes],
    );
    return rows.map(fromRow);
  }

  /** The new item; null when one with its code exists. */
  async insert(manager: EntityManager, item: StoredRmiItem): Promise<RmiItem | null> {
    const [row] = await sqlRows<RmiItemRow>(
      manager,
      `INSERT INTO rmi_items (code, title, security_related, category, notes) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (code) DO NOTHING RETURNING ${COLUMNS}`,
      [item.code, item.title, item.securityRelated, item.category, item.notes],
    );
    return row ? fromRow(row) : null;
  }

  /** Overwrites every stored value of an existing item and returns it. */
  async update(manager: EntityManager, item: StoredRmiItem): Promise<RmiItem> {
    const [row] = await sqlRows<RmiItemRow>(
      manager,
      `UPDATE rmi_items SET title = $2, security_related = $3, category = $4, notes = $5, updated_at = now()
        WHERE code = $1 RETURNING ${COLUMNS}`,
      [item.code, item.title, item.securityRelated, item.category, item.notes],
    );
    return fromRow(row);
  }

  /** Inserts new items in one statement. */
  async insertMany(manager: EntityManager, items: StoredRmiItem[]): Promise<void> {
    await sqlRows(
      manager,
      `INSERT INTO rmi_items (code, title, security_related, category, notes)
       SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::text[])`,
      columnsOf(items),
    );
  }

  /** Overwrites the stored values of existing items in one statement. */
  async updateMany(manager: EntityManager, items: StoredRmiItem[]): Promise<void> {
    await sqlRows(
      manager,
      `UPDATE rmi_items r
          SET title = v.title, security_related = v.security_related, category = v.category, notes = v.notes,
              updated_at = now()
         FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::text[])
              AS v(code, title, security_related, category, notes)
        WHERE r.code = v.code`,
      columnsOf(items),
    );
  }

  /** Inserts `items` only while the table is empty; returns the codes inserted (none when it was not). */
  async seedIfEmpty(
    manager: EntityManager,
    items: ReadonlyArray<Pick<RmiItem, 'code' | 'title' | 'securityRelated' | 'category'>>,
  ): Promise<string[]> {
    const rows = await sqlRows<{ code: string }>(
      manager,
      `INSERT INTO rmi_items (code, title, security_related, category)
       SELECT s.code, s.title, s.security_related, s.category
         FROM jsonb_to_recordset($1::jsonb) AS s(code text, title text, security_related boolean, category text)
        WHERE NOT EXISTS (SELECT 1 FROM rmi_items)
       ON CONFLICT (code) DO NOTHING
       RETURNING code`,
      [
        jsonb(
          items.map((item) => ({
            code: item.code,
            title: item.title,
            security_related: item.securityRelated,
            category: item.category,
          })),
        ),
      ],
    );
    return rows.map((row) => row.code);
  }
}
