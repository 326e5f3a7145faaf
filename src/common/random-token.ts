import { randomFillSync } from 'node:crypto';

/**
 * Random bytes come from a pool filled 4 KiB at a time, as Node's own randomUUID does: one randomBytes(32) call
 * costs about as much as filling 4 KiB, and a login draws five values (state, nonce, PKCE verifier, browser binding,
 * session token). Each byte is handed out once; the pool never returns to a byte it gave.
 */
const POOL_BYTES = 4096;
let pool = Buffer.allocUnsafeSlow(POOL_BYTES);
let offset = POOL_BYTES;

function take(size: number): Buffer {
  if (size > POOL_BYTES) throw new RangeError(`randomToken: at most ${POOL_BYTES} bytes`);
  if (offset + size > POOL_BYTES) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(POOL_BYTES));
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + size);
  offset += size;
  return bytes;
}

/** `size` random bytes as base64url (43 characters for the default 32 bytes: 256 bits). */
export function randomToken(size = 32): string {
  return take(size).toString('base64url');
}
