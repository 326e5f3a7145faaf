import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { type IdentityProvider, PROVIDER_CHECK_SQL } from '../common/identity-providers.js';

/**
 * The ID token of a browser's latest login at a provider, kept for that provider's sign-out page (`id_token_hint`):
 * providers may refuse to send the browser back after a sign-out that names only the client. Reached through the
 * random handle in the browser's note cookie for that provider (ProviderLogout), stored hashed; deleted when the
 * browser comes back from that provider's sign-out page, purged with the expired login transactions otherwise.
 * Unlogged, like the logins in flight: a database crash empties it, and the sign-out falls back to `client_id`.
 */
@Entity('sign_out_hints')
@Check('sign_out_hints_provider_check', PROVIDER_CHECK_SQL)
@Check('sign_out_hints_handle_hash_check', `octet_length("handle_hash") = 32`)
@Index('sign_out_hints_expires_at_idx', ['expiresAt'])
export class SignOutHint {
  @PrimaryColumn({ name: 'handle_hash', type: 'bytea', primaryKeyConstraintName: 'sign_out_hints_pkey' })
  handleHash: Buffer;

  @Column({ type: 'text' })
  provider: IdentityProvider;

  @Column({ name: 'id_token', type: 'text' })
  idToken: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
