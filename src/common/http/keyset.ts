import { decodeCursor, encodeCursor, TIMESTAMP_PATTERN, UUID_PATTERN } from './cursor.js';
import { isReasonableInstant } from './date-time.js';
import { utcMicros } from '../hash-chain/canonical.js';
import type { SqlParameters } from '../../database/sql.js';

/** One page of a keyset-paginated list: nextCursor is null on the last page. */
export interface KeysetPage<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * The page out of rows fetched with `LIMIT limit + 1`: the extra row only tells that there is a next page, whose
 * cursor is the position of this page's last row. The rows are the items unless `toItem` maps them.
 */
export function keysetPage<Row>(
  rows: Row[],
  limit: number,
  positionOf: (last: Row) => Record<string, string>,
): KeysetPage<Row>;
export function keysetPage<Row, Item>(
  rows: Row[],
  limit: number,
  positionOf: (last: Row) => Record<string, string>,
  toItem: (row: Row) => Item,
): KeysetPage<Item>;
export function keysetPage<Row, Item>(
  rows: Row[],
  limit: number,
  positionOf: (last: Row) => Record<string, string>,
  toItem?: (row: Row) => Item,
): KeysetPage<Row | Item> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: toItem ? page.map(toItem) : page,
    nextCursor: rows.length > limit && last ? encodeCursor(positionOf(last)) : null,
  };
}

/**
 * A list ordered newest first on (a timestamp, id). Rows carry the timestamp as `cursor_at` at the stored
 * microsecond precision (milliseconds would skip rows sharing one); the cursor is `{ [timestampKey], id }`, and
 * anything else is refused as `invalid_cursor`.
 */
export function newestFirst(timestampKey: string, timestampColumn: string, idColumn: string) {
  return {
    orderBy: `${timestampColumn} DESC, ${idColumn} DESC`,
    cursorColumn: `${utcMicros(timestampColumn)} AS cursor_at`,

    /** The condition that continues after a cursor. */
    after(cursor: string, params: SqlParameters): string {
      const position = decodeCursor(
        cursor,
        [timestampKey, 'id'],
        (p) =>
          TIMESTAMP_PATTERN.test(p[timestampKey]) && isReasonableInstant(p[timestampKey]) && UUID_PATTERN.test(p.id),
      );
      return `(${timestampColumn}, ${idColumn}) < (${params.add(position[timestampKey])}::timestamptz, ${params.add(position.id)}::uuid)`;
    },

    positionOf: (row: { cursor_at: string; id: string }) => ({ [timestampKey]: row.cursor_at, id: row.id }),
  };
}
