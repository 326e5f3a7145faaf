import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../app/app.config.js';
import { ConfigurationError } from '../../config/validate-env.js';
import { generateKey, privateJwk } from '../../oidc/rp-keys.js';
import { ITSME_ACR } from './itsme.config.js';

function problemsFor(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

const signing = privateJwk(generateKey('sig', 'sig'));
const encryption = privateJwk(generateKey('enc', 'enc'));
const REAL = {
  ITSME_ENABLED: 'true',
  ITSME_ISSUER: 'https://idp.e2e.itsme.services/v2',
  ITSME_CLIENT_ID: 'client',
  ITSME_SERVICE_CODE: 'RMI_PORTAL',
  ITSME_SIGNING_KEY: JSON.stringify(signing),
  ITSME_ENCRYPTION_KEYS: JSON.stringify([encryption]),
};

describe('ITSME_* settings', () => {
  it('are off by default; enabled without an issuer on localhost, the sandbox (keys generated later)', () => {
    expect(loadConfig({}).itsme).toBeNull();
    expect(loadConfig({ ITSME_ENABLED: 'true' }).itsme).toMatchObject({
      sandbox: true,
      signingKeys: [],
      encryptionKeys: [],
      acr: 'advanced',
      acrValue: ITSME_ACR.advanced,
      extraScopes: 'profile',
      unknownIdentityPolicy: 'pending',
      sandboxPort: 3003,
    });
  });

  it('refuse the sandbox in production, off localhost, or with partial settings', () => {
    expect(problemsFor({ ITSME_ENABLED: 'true', ITSME_CLIENT_ID: 'x' })).toEqual([
      expect.stringMatching(/^ITSME_ISSUER: required when ITSME_CLIENT_ID is set/),
    ]);
    const offLocalhost = {
      ITSME_ENABLED: 'true',
      PUBLIC_BASE_URL: 'https://portal.example',
      DIGIDENTITY_ENABLED: 'false',
    };
    expect(problemsFor(offLocalhost)).toEqual([
      expect.stringMatching(/^ITSME_ISSUER: required unless PUBLIC_BASE_URL is on localhost/),
    ]);
  });

  it('with an issuer, need client, service code and both keys, and name each missing variable', () => {
    expect(problemsFor({ ITSME_ENABLED: 'true', ITSME_ISSUER: REAL.ITSME_ISSUER })).toEqual([
      'ITSME_CLIENT_ID: required when ITSME_ISSUER is set',
      'ITSME_SERVICE_CODE: required when ITSME_ISSUER is set',
      'ITSME_SIGNING_KEY: required when ITSME_ISSUER is set',
      'ITSME_ENCRYPTION_KEYS: required when ITSME_ISSUER is set',
    ]);
    const config = loadConfig(REAL).itsme!;
    expect(config.signingKeys.map((key) => [key.kid, key.use, key.alg])).toEqual([[signing.kid, 'sig', 'RS256']]);
    expect(config.encryptionKeys.map((key) => [key.kid, key.use, key.alg])).toEqual([
      [encryption.kid, 'enc', 'RSA-OAEP-256'],
    ]);
  });

  it('refuse unusable keys and unknown scopes without echoing the key', () => {
    const problems = problemsFor({
      ...REAL,
      ITSME_SIGNING_KEY: JSON.stringify(encryption),
      ITSME_ENCRYPTION_KEYS: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----',
      ITSME_SCOPES: 'profile nationalnumber',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^ITSME_SCOPES: unknown scope nationalnumber/),
      'ITSME_SIGNING_KEY: a key has use enc',
      'ITSME_ENCRYPTION_KEYS: a PEM block is not a usable private key',
    ]);
    expect(problems.join('\n')).not.toContain(String(encryption.d));
    expect(problemsFor({ ...REAL, ITSME_ACR: 'strong' })).toEqual([expect.stringMatching(/^ITSME_ACR: /)]);
  });

  it('refuse a signing and an encryption key with the same kid', () => {
    expect(
      problemsFor({ ...REAL, ITSME_ENCRYPTION_KEYS: JSON.stringify([{ ...encryption, kid: signing.kid }]) }),
    ).toEqual(['ITSME_ENCRYPTION_KEYS: key ids must differ from the signing keys']);
  });
});
