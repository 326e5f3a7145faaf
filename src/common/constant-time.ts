import { timingSafeEqual } from 'node:crypto';

/**
 * Whether a presented secret value (token, signature, hash) equals the expected one, in time that does not depend on
 * where they differ. Anything but a string is not equal.
 */
export function equalInConstantTime(expected: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
