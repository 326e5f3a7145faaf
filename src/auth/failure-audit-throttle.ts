import { clientKey } from '../login-transactions/login-start-limits.js';

/** Clients followed at once; a client beyond them shares one window with every other such client. */
export const MAX_TRACKED_CLIENTS = 10_000;
const WINDOW_MS = 60_000;
const OVERFLOW = 'overflow';

/**
 * Refused logins are security events, but anyone can cause one (a forged callback costs nothing), and audit writes
 * queue on the audit chain. Per client — an IPv4 address or an IPv6 /64, as the login-start limits count them (one
 * subscriber gets a whole /64) — the first `limit` refusals in a minute are audited one by one; the rest are
 * counted, and the start of throttling is itself audited. Memory and work stay bounded: windows are kept in the
 * order they started, so the expired ones are let go from the front, and once MAX_TRACKED_CLIENTS are followed,
 * any further client shares one window (and one limit) with all the others.
 */
export class FailureAuditThrottle {
  private readonly windows = new Map<string, { startedAt: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** `audit` for the next event of this client, `throttle-start` for the first one over the limit, then `skip`. */
  next(client: string | null): 'audit' | 'throttle-start' | 'skip' {
    const now = this.now();
    this.letExpiredGo(now);
    let key = clientKey(client);
    if (!this.windows.has(key) && this.windows.size >= MAX_TRACKED_CLIENTS) key = OVERFLOW;
    let window = this.windows.get(key);
    if (!window) {
      window = { startedAt: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
    if (window.count <= this.limit) return 'audit';
    return window.count === this.limit + 1 ? 'throttle-start' : 'skip';
  }

  /** Clients followed now (for the tests). */
  get tracked(): number {
    return this.windows.size;
  }

  private letExpiredGo(now: number): void {
    for (const [key, window] of this.windows) {
      if (now - window.startedAt < WINDOW_MS) return;
      this.windows.delete(key);
    }
  }
}
