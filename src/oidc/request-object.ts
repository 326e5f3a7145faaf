import { CompactEncrypt, CompactSign } from 'jose';
import type { Jwk } from './jws-verify.js';
import { LoginFailure } from '../common/problem/login-failure.js';
import type { RelyingPartyKey } from './rp-keys.js';
import { randomToken } from '../common/random-token.js';

export interface RequestObjectSettings {
  signingKey: RelyingPartyKey;
  /**
   * Encrypt the signed request object to the provider (a nested JWT): the first of our preferred algorithms that
   * the provider's discovery lists (or simply the first, when it lists none).
   */
  encryption?: { algs: readonly string[]; encs: readonly string[] };
}

function preferred(ours: readonly string[], theirs: unknown): string {
  if (!Array.isArray(theirs) || theirs.length === 0) return ours[0];
  const match = ours.find((value) => theirs.includes(value));
  if (!match) {
    throw new LoginFailure(
      'provider_misconfigured',
      `the provider supports none of ${ours.join(', ')} for request objects`,
    );
  }
  return match;
}

const LIFETIME_SECONDS = 300;

/** The provider's key for request objects: its one encryption key that fits `alg` (kid-less sets have one). */
export function providerEncryptionKey(keys: readonly Jwk[], alg: string): Jwk {
  const candidates = keys.filter(
    (key) =>
      key.kty === 'RSA' &&
      key.use === 'enc' &&
      (key.alg === undefined || key.alg === alg) &&
      (key.key_ops === undefined ||
        (Array.isArray(key.key_ops) && (key.key_ops.includes('encrypt') || key.key_ops.includes('wrapKey')))),
  );
  if (candidates.length === 0) {
    throw new LoginFailure('provider_misconfigured', `the provider publishes no encryption key for ${alg}`);
  }
  // Several: the provider rotates; the first one listed is the current one by convention.
  return candidates[0];
}

/**
 * The authorization request as a JWT signed with our key (RFC 9101) and, when asked, encrypted to the provider
 * (signed, then encrypted: a nested JWT, as itsme requires — docs/providers.md#itsme-request-object).
 */
export async function buildRequestObject(
  parameters: Record<string, string>,
  context: {
    clientId: string;
    audience: string;
    providerKeys: () => Promise<readonly Jwk[]>;
    metadata: Record<string, unknown>;
  },
  settings: RequestObjectSettings,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    ...parameters,
    iss: context.clientId,
    aud: context.audience,
    client_id: context.clientId,
    iat: now,
    nbf: now,
    exp: now + LIFETIME_SECONDS,
    jti: randomToken(16),
  };
  // `claims` is a JSON object inside the request object, not a string (OIDC Core §6.1).
  if (typeof parameters.claims === 'string') claims.claims = JSON.parse(parameters.claims) as unknown;
  const { signingKey } = settings;
  const signed = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: signingKey.alg, kid: signingKey.kid, typ: 'oauth-authz-req+jwt' })
    .sign(signingKey.privateKey);
  if (!settings.encryption) return signed;
  const alg = preferred(settings.encryption.algs, context.metadata.request_object_encryption_alg_values_supported);
  const enc = preferred(settings.encryption.encs, context.metadata.request_object_encryption_enc_values_supported);
  const key = providerEncryptionKey(await context.providerKeys(), alg);
  return new CompactEncrypt(new TextEncoder().encode(signed))
    .setProtectedHeader({
      alg,
      enc,
      cty: 'JWT',
      ...(typeof key.kid === 'string' ? { kid: key.kid } : {}),
    })
    .encrypt(key as never);
}
