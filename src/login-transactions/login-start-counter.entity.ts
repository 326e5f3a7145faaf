import { Check, Column, Entity, PrimaryColumn } from 'typeorm';
import type { LoginStartKind } from './login-start-limits.js';

/**
 * Login starts per client and minute (fixed windows in database time), shared by every instance. Only
 * login-start-counters.repository.ts writes it: one upsert in the statement that stores the login, or just before a
 * passwordless start calls the provider. Finished windows are purged with the expired login transactions.
 */
@Entity('login_start_counters')
@Check('login_start_counters_kind_check', `"kind" IN ('login', 'passwordless')`)
@Check('login_start_counters_client_key_check', `length("client_key") BETWEEN 1 AND 64`)
@Check('login_start_counters_hits_check', `"hits" > 0`)
export class LoginStartCounter {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'login_start_counters_pkey' })
  kind: LoginStartKind;

  /** An IPv4 address, an IPv6 /64 prefix, or `unknown` (see clientKey). */
  @PrimaryColumn({ name: 'client_key', type: 'text', primaryKeyConstraintName: 'login_start_counters_pkey' })
  clientKey: string;

  @PrimaryColumn({ name: 'window_start', type: 'timestamptz', primaryKeyConstraintName: 'login_start_counters_pkey' })
  windowStart: Date;

  /** Starts admitted in the window, plus one for the first refused start (counting stops there). */
  @Column({ type: 'integer', default: 1 })
  hits: number;
}
