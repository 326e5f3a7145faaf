/**
 * Refused logins are security events, but anyone can cause one (a forged callback costs nothing), and audit writes
 * queue on the audit chain. Per client address, the first `limit` refusals in a minute are audited one by one;
 * the rest are counted, and the start of throttling is itself audited.
 */
export class FailureAuditThrottle {
  private readonly windows = new Map<string, { startedAt: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** `audit` for the next event of this client, `throttle-start` for the first one over the limit, then `skip`. */
  next(client: string | null): 'audit' | 'throttle-start' | 'skip' {
    const key = client ?? 'unknown';
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= 60_000) {
      if (this.windows.size > 10_000) this.sweep(now);
      window = { startedAt: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
    if (window.count <= this.limit) return 'audit';
    return window.count === this.limit + 1 ? 'throttle-start' : 'skip';
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (now - window.startedAt >= 60_000) this.windows.delete(key);
  }
}
