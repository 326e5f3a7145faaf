import { AppException } from '../problem/app-exception.js';

/** Opaque keyset-pagination cursors: base64url JSON the client passes back unchanged. */
export function encodeCursor(position: Record<string, string>): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

export function decodeCursor<K extends string>(
  cursor: string,
  keys: readonly K[],
  valid: (position: Record<K, string>) => boolean,
): Record<K, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new AppException('invalid_cursor', 'Pass back the nextCursor value of a previous page unchanged');
  }
  const isPosition =
    typeof parsed === 'object' &&
    parsed !== null &&
    keys.every((key) => typeof (parsed as Record<string, unknown>)[key] === 'string') &&
    Object.keys(parsed).length === keys.length;
  if (!isPosition || !valid(parsed as Record<K, string>)) {
    throw new AppException('invalid_cursor', 'Pass back the nextCursor value of a previous page unchanged');
  }
  return parsed as Record<K, string>;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
