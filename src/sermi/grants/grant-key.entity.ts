import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * The public keys access grants were signed with, one row per key, written by every instance that signs with it.
 * The JWKS publishes every key until `published_until`, which its signers keep moving past the expiry of the last
 * grant they could sign, so a grant still verifies after its key was rotated away or its instance stopped.
 */
@Entity('sermi_grant_keys')
export class SermiGrantKey {
  /** RFC 7638 thumbprint, the `kid` of the grants. */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'sermi_grant_keys_pkey' })
  kid: string;

  /** The public JWK as published (never a private part). */
  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk: Record<string, string>;

  @CreateDateColumn({ name: 'first_published_at', type: 'timestamptz' })
  firstPublishedAt: Date;

  @Column({ name: 'published_until', type: 'timestamptz' })
  publishedUntil: Date;
}
