import { createHash, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject, sign } from 'node:crypto';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../app/app.config.js';
import { InjectAppConfig } from '../../config/config.module.js';
import { InjectRootLogger } from '../../common/logging/logger.module.js';
import { SermiGrantKeysRepository } from './sermi-grant-keys.repository.js';

export const ACCESS_GRANT_TYPE = 'rmi-access-grant+jwt';

export interface AccessGrantClaims {
  /** The access decision's id: one grant per decision. */
  jti: string;
  /** The portal account the session belongs to. */
  sub: string;
  vin: string;
  item: string;
  /** When the SERMI login behind the session happened (seconds since the epoch). */
  auth_time: number;
  sermi: {
    actorType: 'IOE' | 'RSSE';
    actor: { sub: string; uid: string; organisationUid: string };
    principal: { ioeuid: string; iouid: string };
    cabuid: string;
  };
}

export interface PublishedKey extends JsonWebKey {
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

function publish(publicKey: KeyObject): PublishedKey {
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  // RFC 7638 thumbprint: the required members in lexicographic order.
  const kid = base64url(createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest());
  return { kty, crv, x, y, kid, alg: 'ES256', use: 'sig' };
}

/**
 * A signing key's row is refreshed at most this often; each refresh publishes it until the longest grant it may sign
 * before the next refresh has expired, plus this much again for clocks that disagree.
 */
const REFRESH_INTERVAL_SECONDS = 300;
/**
 * Signs access grants: short-lived ES256 JWTs that the manufacturer's RMI content system verifies offline against
 * /.well-known/jwks.json. The key comes from SERMI_GRANT_SIGNING_KEY; outside production an ephemeral one is
 * generated.
 *
 * Every instance records the public key it signs with in `sermi_grant_keys` and keeps moving its `published_until`
 * past the expiry of any grant it may have signed (at start, then before signing once the last refresh is
 * REFRESH_INTERVAL_SECONDS old — a write every few minutes, not per decision). Every instance's JWKS publishes every
 * key whose `published_until` lies ahead: a grant signed just before a rotation, or by an instance that has since
 * stopped, still verifies, and nobody lists previous keys by hand.
 */
@Injectable()
export class AccessGrantSigner implements OnApplicationBootstrap {
  private readonly key: KeyObject;
  private readonly signing: PublishedKey;
  /** The signing key first, then the keys announced for a rotation (SERMI_GRANT_PUBLISHED_PUBLIC_KEYS). */
  private readonly ownKeys: PublishedKey[];
  private readonly header: string;
  /** Local time (ms) after which the signing key's row must be refreshed before the next grant is signed. */
  private refreshDueAt = 0;
  private refreshing?: Promise<void>;

  constructor(
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectRootLogger() private readonly logger: Logger,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly grantKeys: SermiGrantKeysRepository,
  ) {
    const configured = config.sermi.grant.signingKey;
    if (!configured) {
      logger.warn('SERMI_GRANT_SIGNING_KEY is not set: access grants are signed with an ephemeral key');
    }
    this.key = configured ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    this.signing = publish(createPublicKey(this.key));
    const others = config.sermi.grant.publishedPublicKeys.map(publish);
    this.ownKeys = [this.signing, ...others.filter((key) => key.kid !== this.signing.kid)];
    this.header = base64url(JSON.stringify({ alg: 'ES256', typ: ACCESS_GRANT_TYPE, kid: this.signing.kid }));
  }

  /** Announces the signing key before the first grant; should this fail, the first grant retries it. */
  async onApplicationBootstrap(): Promise<void> {
    await this.ensurePublished().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'could not record the access grant signing key yet'),
    );
  }

  /** The JWKS: this instance's keys, then every other key still published by the instances that signed with it. */
  async publishedKeys(): Promise<PublishedKey[]> {
    const published = await this.grantKeys.findPublished(this.dataSource.manager);
    const keys = [...this.ownKeys];
    for (const key of published) if (!keys.some((known) => known.kid === key.kid)) keys.push(key);
    return keys;
  }

  /**
   * Returns the compact JWT and its expiry: SERMI_GRANT_TTL_SECONDS from now, but never after `notAfter` (the end
   * of the SERMI login or session it was granted on).
   */
  async sign(claims: AccessGrantClaims, now: Date, notAfter?: Date): Promise<{ token: string; expiresAt: Date }> {
    await this.ensurePublished();
    const iat = Math.floor(now.getTime() / 1000);
    const ttlEnd = iat + this.config.sermi.grant.ttlSeconds;
    const exp = notAfter ? Math.max(iat + 1, Math.min(ttlEnd, Math.floor(notAfter.getTime() / 1000))) : ttlEnd;
    const payload = base64url(
      JSON.stringify({
        iss: this.config.http.publicBaseUrl.origin,
        aud: this.config.sermi.grant.audience,
        iat,
        nbf: iat,
        exp,
        ...claims,
      }),
    );
    const input = `${this.header}.${payload}`;
    const signature = sign('sha256', Buffer.from(input), { key: this.key, dsaEncoding: 'ieee-p1363' });
    return { token: `${input}.${signature.toString('base64url')}`, expiresAt: new Date(exp * 1000) };
  }

  private async ensurePublished(): Promise<void> {
    if (Date.now() < this.refreshDueAt) return;
    this.refreshing ??= this.recordSigningKey().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Published until (database time) a grant signed before the next refresh has surely expired. */
  private async recordSigningKey(): Promise<void> {
    const startedAt = Date.now();
    const horizonSeconds = this.config.sermi.grant.ttlSeconds + 2 * REFRESH_INTERVAL_SECONDS;
    await this.grantKeys.publish(this.dataSource.manager, this.signing, horizonSeconds);
    this.refreshDueAt = startedAt + REFRESH_INTERVAL_SECONDS * 1000;
  }
}
