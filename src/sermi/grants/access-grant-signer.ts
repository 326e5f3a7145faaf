import { createHash, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject, sign } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AppConfig } from '../../config/app.config.js';
import { InjectAppConfig } from '../../config/config.module.js';
import { InjectRootLogger } from '../../common/logging/logger.module.js';

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
 * Signs access grants: short-lived ES256 JWTs that the manufacturer's RMI content system verifies offline against
 * /.well-known/jwks.json. The key comes from SERMI_GRANT_SIGNING_KEY; outside production an ephemeral one is
 * generated, which only this instance's JWKS publishes.
 */
@Injectable()
export class AccessGrantSigner {
  private readonly key: KeyObject;
  /** The signing key first, then the keys published for a rotation (SERMI_GRANT_PUBLISHED_PUBLIC_KEYS). */
  readonly publishedKeys: PublishedKey[];
  private readonly header: string;

  constructor(
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectRootLogger() logger: Logger,
  ) {
    const configured = config.sermi.grant.signingKey;
    if (!configured) {
      logger.warn('SERMI_GRANT_SIGNING_KEY is not set: access grants are signed with an ephemeral key');
    }
    this.key = configured ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const signing = publish(createPublicKey(this.key));
    const others = config.sermi.grant.publishedPublicKeys.map(publish);
    this.publishedKeys = [signing, ...others.filter((key) => key.kid !== signing.kid)];
    this.header = base64url(JSON.stringify({ alg: 'ES256', typ: ACCESS_GRANT_TYPE, kid: signing.kid }));
  }

  /**
   * Returns the compact JWT and its expiry: SERMI_GRANT_TTL_SECONDS from now, but never after `notAfter` (the end
   * of the SERMI login or session it was granted on).
   */
  sign(claims: AccessGrantClaims, now: Date, notAfter?: Date): { token: string; expiresAt: Date } {
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
}
