import type { IdentityProvider } from '../common/identity-providers.js';
import type { StoredLoginTransaction } from './login-transactions.service.js';

interface StartedLogin {
  id: string;
  provider: IdentityProvider;
  /** When it expires on this process's monotonic clock (`performance.now()`). */
  expiresAtLocal: number;
  /** Null once its callback came here: a second one is a replay, refused without asking the database. */
  open: { transaction: StoredLoginTransaction; browserBindingHash: Buffer } | null;
}

export type TakenLogin =
  | { kind: 'taken'; transaction: StoredLoginTransaction; browserBindingHash: Buffer }
  | { kind: 'replayed'; id: string }
  | { kind: 'unknown' };

/**
 * The web logins this process started, by state hash: a callback that comes back to the process that started its
 * login takes it from here instead of running a consume statement, and the statement that completes the login
 * consumes its row (docs/login-flows.md#a-login-consumed-where-it-completes). A taken login stays, refusing its state
 * here, until its row is consumed (`forget`); an untaken one until it expires. Bounded: beyond `capacity` the oldest
 * are dropped, and their callbacks consume the row first, as on any other instance.
 */
export class LoginsStartedHere {
  /**
   * In insertion order, which is about expiry order (every login kept here has the same lifetime; starts that finish
   * out of order are a statement's time apart): old ones are dropped from the front, and `take` checks each too.
   */
  private readonly byStateHash = new Map<string, StartedLogin>();
  private readonly stateHashById = new Map<string, string>();

  constructor(
    private readonly capacity: number,
    private readonly ttlSeconds: number,
  ) {}

  /** The logins kept, expired ones dropped first. */
  count(): number {
    this.dropExpired(performance.now());
    return this.byStateHash.size;
  }

  keep(stateHash: Buffer, transaction: StoredLoginTransaction, browserBindingHash: Buffer): void {
    this.dropExpired(performance.now());
    while (this.byStateHash.size >= this.capacity) this.dropOldest();
    const key = stateHash.toString('base64');
    this.byStateHash.set(key, {
      id: transaction.id,
      provider: transaction.provider,
      expiresAtLocal: transaction.startedAtLocal + this.ttlSeconds * 1000,
      open: { transaction, browserBindingHash },
    });
    this.stateHashById.set(transaction.id, key);
  }

  /**
   * The login a callback of `provider` with this state hash completes, once; `replayed` for a callback with it again.
   * Another provider's login, or one past its lifetime, is `unknown` here (the database path refuses it).
   */
  take(stateHash: Buffer, provider: IdentityProvider): TakenLogin {
    const now = performance.now();
    this.dropExpired(now);
    const started = this.byStateHash.get(stateHash.toString('base64'));
    if (!started || started.provider !== provider || started.expiresAtLocal <= now) return { kind: 'unknown' };
    if (!started.open) return { kind: 'replayed', id: started.id };
    const { transaction, browserBindingHash } = started.open;
    started.open = null;
    return { kind: 'taken', transaction, browserBindingHash };
  }

  /** Forgets a login whose row is consumed (its completion, or a start that failed after storing it). */
  forget(id: string): void {
    const key = this.stateHashById.get(id);
    if (key === undefined) return;
    this.stateHashById.delete(id);
    this.byStateHash.delete(key);
  }

  private dropExpired(now: number): void {
    for (const started of this.byStateHash.values()) {
      if (started.expiresAtLocal > now) return;
      this.dropOldest();
    }
  }

  private dropOldest(): void {
    const oldest = this.byStateHash.entries().next();
    if (oldest.done) return;
    const [key, started] = oldest.value;
    this.byStateHash.delete(key);
    this.stateHashById.delete(started.id);
  }
}
