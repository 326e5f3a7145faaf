import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from './app.config.js';
import { ConfigurationError } from '../config/validate-env.js';

function problemsFor(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

const GRANT_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

describe('loadConfig', () => {
  it('needs a P-256 grant signing key in production, and refuses anything else as one', () => {
    const production = {
      NODE_ENV: 'production',
      PUBLIC_BASE_URL: 'https://portal.example',
      DIGIDENTITY_ENABLED: 'false',
    };
    expect(problemsFor(production)).toEqual([
      expect.stringMatching(/^SERMI_GRANT_SIGNING_KEY: required in production/),
    ]);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(problemsFor({ SERMI_GRANT_SIGNING_KEY: rsa.toString() })).toEqual([
      'SERMI_GRANT_SIGNING_KEY: must be a P-256 (ES256) private key',
    ]);
    expect(problemsFor({ SERMI_GRANT_SIGNING_KEY: 'not a key' })).toEqual([
      'SERMI_GRANT_SIGNING_KEY: not a PEM private key',
    ]);
    // A PEM in one line, with \n escapes, as environment files often hold it.
    const oneLine = loadConfig({ ...production, SERMI_GRANT_SIGNING_KEY: GRANT_KEY.replace(/\n/g, '\\n') });
    expect(oneLine.sermi.grant.signingKey?.asymmetricKeyType).toBe('ec');
    expect(loadConfig({}).sermi).toMatchObject({
      ioeMaxAgeSeconds: 1800,
      rsseMaxAgeSeconds: 900,
      chainVehicleBinding: 'first_vehicle',
      grant: { ttlSeconds: 180, audience: 'rmi-content', signingKey: null, publishedPublicKeys: [] },
      log: { retentionDays: 730, sealIntervalMs: 1000, purgeIntervalSeconds: 3600 },
    });
  });

  it('takes P-256 public keys to publish for a grant key rotation, and refuses anything else', () => {
    const publicPem = (type: 'ec' | 'rsa') =>
      (type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 })
      ).publicKey
        .export({ type: 'spki', format: 'pem' })
        .toString();
    const two = `${publicPem('ec')}\n${publicPem('ec')}`;
    expect(loadConfig({ SERMI_GRANT_PUBLISHED_PUBLIC_KEYS: two }).sermi.grant.publishedPublicKeys).toHaveLength(2);
    expect(problemsFor({ SERMI_GRANT_PUBLISHED_PUBLIC_KEYS: `${publicPem('ec')}${publicPem('rsa')}` })).toEqual([
      'SERMI_GRANT_PUBLISHED_PUBLIC_KEYS: key 2 is not a P-256 (ES256) public key',
    ]);
    expect(problemsFor({ SERMI_GRANT_PUBLISHED_PUBLIC_KEYS: GRANT_KEY })).toEqual([
      'SERMI_GRANT_PUBLISHED_PUBLIC_KEYS: only PEM public keys (BEGIN PUBLIC KEY), one after the other',
    ]);
    const garbled = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----';
    expect(problemsFor({ SERMI_GRANT_PUBLISHED_PUBLIC_KEYS: garbled })).toEqual([
      'SERMI_GRANT_PUBLISHED_PUBLIC_KEYS: key 1 is not a readable PEM public key',
    ]);
  });

  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config.http.port).toBe(3000);
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.database.url).toBeUndefined();
    expect(config.database.runMigrations).toBe(true);
    expect(config.database.embedded).toEqual({ dataDir: '.data/postgres', port: 54329 });
    expect(config.database.batchLingerMs).toBe(15);
    expect(config.session).toEqual({
      cookieSecure: true,
      cookieName: '__Host-rmi_session',
      idleTimeoutSeconds: 1800,
      absoluteTimeoutSeconds: 43200,
    });
    expect([...config.http.trustedOrigins]).toEqual(['http://localhost:3000']);
    expect(config.login).toMatchObject({
      startLimitPerMinute: 60,
      passwordlessStartLimitPerMinute: 30,
      openPerBrowser: 5,
      purgeGraceSeconds: 300,
      purgeIntervalSeconds: 60,
    });
  });

  it('serves no metrics unless METRICS_PORT is set, and in production beyond loopback only with a token', () => {
    expect(loadConfig({}).operations.metrics).toBeNull();
    expect(loadConfig({ METRICS_PORT: '9464' }).operations.metrics).toEqual({
      port: 9464,
      host: '127.0.0.1',
      token: null,
    });
    const production = {
      NODE_ENV: 'production',
      PUBLIC_BASE_URL: 'https://portal.example',
      DIGIDENTITY_ENABLED: 'false',
      SERMI_GRANT_SIGNING_KEY: GRANT_KEY,
      METRICS_PORT: '9464',
    };
    expect(loadConfig(production).operations.metrics?.host).toBe('127.0.0.1');
    expect(problemsFor({ ...production, METRICS_HOST: '0.0.0.0' })).toEqual([
      'METRICS_TOKEN: required in production when METRICS_HOST is not a loopback address',
    ]);
    const token = 'x'.repeat(32);
    expect(loadConfig({ ...production, METRICS_HOST: '0.0.0.0', METRICS_TOKEN: token }).operations.metrics).toEqual({
      port: 9464,
      host: '0.0.0.0',
      token,
    });
  });

  it('has each instance write its own access log records unless SERMI_LOG_WRITER_URL or _PORT is set', () => {
    expect(loadConfig({}).sermi.log.writer).toBeNull();
    const secret = 's'.repeat(32);
    expect(
      loadConfig({ SERMI_LOG_WRITER_URL: 'http://rmi-0.internal:8081', SERMI_LOG_WRITER_SECRET: secret }).sermi.log
        .writer,
    ).toEqual({
      url: new URL('http://rmi-0.internal:8081'),
      listen: null,
      secret: Buffer.from(secret),
      answerTimeoutMs: 2000,
      retryMs: 5000,
    });
    expect(
      loadConfig({
        SERMI_LOG_WRITER_PORT: '8081',
        SERMI_LOG_WRITER_HOST: '0.0.0.0',
        SERMI_LOG_WRITER_SECRET: secret,
        SERMI_LOG_WRITER_ANSWER_TIMEOUT_MS: '750',
        SERMI_LOG_WRITER_RETRY_MS: '30000',
      }).sermi.log.writer,
    ).toMatchObject({ url: null, listen: { port: 8081, host: '0.0.0.0' }, answerTimeoutMs: 750, retryMs: 30000 });
  });

  it('takes a batch linger of 0 (statements never wait for more calls)', () => {
    expect(loadConfig({ DATABASE_BATCH_LINGER_MS: '0' }).database.batchLingerMs).toBe(0);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '  ' }).http.port).toBe(3000);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://root@localhost/db' }, 'DATABASE_URL'],
    [{ SESSION_COOKIE_SECURE: 'maybe' }, 'SESSION_COOKIE_SECURE'],
    [{ MIGRATIONS_RUN: 'sometimes' }, 'MIGRATIONS_RUN'],
    [{ PUBLIC_BASE_URL: 'not a url' }, 'PUBLIC_BASE_URL'],
    [{ TRUSTED_ORIGINS: 'https://ok.example,javascript:alert(1)' }, 'TRUSTED_ORIGINS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ SESSION_IDLE_TIMEOUT_SECONDS: '5' }, 'SESSION_IDLE_TIMEOUT_SECONDS'],
    [{ TRUST_PROXY: 'everyone; rm -rf' }, 'TRUST_PROXY'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ LOGIN_START_LIMIT_PER_MINUTE: '0' }, 'LOGIN_START_LIMIT_PER_MINUTE'],
    [{ PASSWORDLESS_START_LIMIT_PER_MINUTE: 'many' }, 'PASSWORDLESS_START_LIMIT_PER_MINUTE'],
    [{ LOGIN_OPEN_PER_BROWSER: '0' }, 'LOGIN_OPEN_PER_BROWSER'],
    [{ LOGIN_TRANSACTION_PURGE_GRACE_SECONDS: '-1' }, 'LOGIN_TRANSACTION_PURGE_GRACE_SECONDS'],
    [{ LOGIN_TRANSACTION_PURGE_INTERVAL_SECONDS: '1.5' }, 'LOGIN_TRANSACTION_PURGE_INTERVAL_SECONDS'],
    [{ HTTP_KEEP_ALIVE_TIMEOUT_MS: '0' }, 'HTTP_KEEP_ALIVE_TIMEOUT_MS'],
    [{ HTTP_HEADERS_TIMEOUT_MS: '200000' }, 'HTTP_HEADERS_TIMEOUT_MS'],
    [{ HTTP_REQUEST_TIMEOUT_MS: 'soon' }, 'HTTP_REQUEST_TIMEOUT_MS'],
    [{ SESSION_RETENTION_DAYS: '0' }, 'SESSION_RETENTION_DAYS'],
    [{ SESSION_PURGE_INTERVAL_SECONDS: '-1' }, 'SESSION_PURGE_INTERVAL_SECONDS'],
    [{ METRICS_PORT: '3000' }, 'METRICS_PORT'],
    [{ SERMI_LOG_WRITER_ANSWER_TIMEOUT_MS: '10' }, 'SERMI_LOG_WRITER_ANSWER_TIMEOUT_MS'],
    [{ SERMI_LOG_WRITER_RETRY_MS: 'later' }, 'SERMI_LOG_WRITER_RETRY_MS'],
    [{ METRICS_HOST: 'metrics.example' }, 'METRICS_HOST'],
    [{ METRICS_PORT: '9464', METRICS_TOKEN: 'short' }, 'METRICS_TOKEN'],
    [{ DATABASE_BATCH_LINGER_MS: '-1' }, 'DATABASE_BATCH_LINGER_MS'],
    [{ DATABASE_BATCH_LINGER_MS: '500' }, 'DATABASE_BATCH_LINGER_MS'],
    [{ SERMI_LOG_WRITER_URL: 'http://rmi-0.internal:8081' }, 'SERMI_LOG_WRITER_SECRET'],
    [{ SERMI_LOG_WRITER_PORT: '8081', SERMI_LOG_WRITER_SECRET: 'short' }, 'SERMI_LOG_WRITER_SECRET'],
    [{ SERMI_LOG_WRITER_URL: 'rmi-0:8081', SERMI_LOG_WRITER_SECRET: 's'.repeat(32) }, 'SERMI_LOG_WRITER_URL'],
    [
      { SERMI_LOG_WRITER_URL: 'https://rmi:pw@rmi-0.internal:8081', SERMI_LOG_WRITER_SECRET: 's'.repeat(32) },
      'SERMI_LOG_WRITER_URL',
    ],
    [{ SERMI_LOG_WRITER_PORT: '3000', SERMI_LOG_WRITER_SECRET: 's'.repeat(32) }, 'SERMI_LOG_WRITER_PORT'],
    [
      { SERMI_LOG_WRITER_PORT: '9464', METRICS_PORT: '9464', SERMI_LOG_WRITER_SECRET: 's'.repeat(32) },
      'SERMI_LOG_WRITER_PORT',
    ],
  ])('refuses %j and names the variable', (env, variable) => {
    const problems = problemsFor(env);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((problem) => problem.startsWith(`${variable}:`))).toBe(true);
  });

  it('reports every invalid variable at once', () => {
    const problems = problemsFor({ PORT: 'x', LOG_LEVEL: 'loud' });
    expect(problems.some((p) => p.startsWith('PORT:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('LOG_LEVEL:'))).toBe(true);
  });

  it('refuses insecure cookies and a plain-http public URL in production', () => {
    const problems = problemsFor({
      NODE_ENV: 'production',
      SESSION_COOKIE_SECURE: 'false',
      PUBLIC_BASE_URL: 'http://portal.example',
      DIGIDENTITY_ENABLED: 'false',
      SERMI_GRANT_SIGNING_KEY: GRANT_KEY,
    });
    expect(problems).toEqual([
      expect.stringMatching(/^PUBLIC_BASE_URL:/),
      expect.stringMatching(/^SESSION_COOKIE_SECURE:/),
    ]);
  });

  it('allows insecure cookies for local plain-http development, with a cookie name browsers accept there', () => {
    const config = loadConfig({ SESSION_COOKIE_SECURE: 'false' });
    expect(config.session.cookieSecure).toBe(false);
    expect(config.session.cookieName).toBe('rmi_session');
  });

  it('starts a Digidentity sandbox outside production when no issuer is configured, and refuses that in production', () => {
    expect(loadConfig({}).digidentity).toMatchObject({ sandbox: true });
    expect(loadConfig({}).digidentity?.issuer).toBeUndefined();
    expect(
      problemsFor({
        NODE_ENV: 'production',
        PUBLIC_BASE_URL: 'https://portal.example',
        SERMI_GRANT_SIGNING_KEY: GRANT_KEY,
      }),
    ).toEqual([expect.stringMatching(/^DIGIDENTITY_ISSUER: required in production/)]);
    expect(loadConfig({ DIGIDENTITY_ENABLED: 'false' }).digidentity).toBeNull();
  });

  it('never falls back to the sandbox by accident: partial Digidentity settings or a public URL beyond localhost', () => {
    expect(problemsFor({ DIGIDENTITY_CLIENT_ID: 'real-client', DIGIDENTITY_CLIENT_SECRET: 'secret' })).toEqual([
      expect.stringMatching(
        /^DIGIDENTITY_ISSUER: required when DIGIDENTITY_CLIENT_ID, DIGIDENTITY_CLIENT_SECRET are set/,
      ),
    ]);
    expect(problemsFor({ PUBLIC_BASE_URL: 'https://portal.example' })).toEqual([
      expect.stringMatching(/^DIGIDENTITY_ISSUER: required unless PUBLIC_BASE_URL is on localhost/),
    ]);
    expect(loadConfig({ PUBLIC_BASE_URL: 'http://127.0.0.1:8080', PORT: '8080' }).digidentity?.sandbox).toBe(true);
  });

  it('follows PORT with the default PUBLIC_BASE_URL, and refuses a local one on another port', () => {
    expect(loadConfig({ PORT: '4100' }).http.publicBaseUrl.href).toBe('http://localhost:4100/');
    expect(loadConfig({}).http.publicBaseUrl.href).toBe('http://localhost:3000/');
    expect(problemsFor({ PORT: '4100', PUBLIC_BASE_URL: 'http://localhost:3000' })).toEqual([
      expect.stringMatching(
        /^PUBLIC_BASE_URL: http:\/\/localhost:3000 names port 3000, but the app listens on PORT=4100/,
      ),
    ]);
    // Behind a local proxy, or a public address, the ports may differ.
    expect(loadConfig({ PORT: '4100', PUBLIC_BASE_URL: 'https://localhost', TRUST_PROXY: 'loopback' }).http.port).toBe(
      4100,
    );
    expect(problemsFor({ NODE_ENV: 'production' })).toContainEqual(
      expect.stringMatching(/^PUBLIC_BASE_URL: required when NODE_ENV=production/),
    );
  });

  it('requires the client settings with a real Digidentity issuer, and https unless explicitly allowed', () => {
    expect(problemsFor({ DIGIDENTITY_ISSUER: 'https://auth.digidentity-preproduction.eu' })).toEqual([
      expect.stringMatching(/^DIGIDENTITY_CLIENT_ID:/),
      expect.stringMatching(/^DIGIDENTITY_CLIENT_SECRET:/),
      expect.stringMatching(/^DIGIDENTITY_PRODUCT_SCOPE:/),
    ]);
    const client = {
      DIGIDENTITY_CLIENT_ID: 'c',
      DIGIDENTITY_CLIENT_SECRET: 's',
      DIGIDENTITY_PRODUCT_SCOPE: 'e9x4a6m254p663l4',
    };
    expect(problemsFor({ ...client, DIGIDENTITY_ISSUER: 'http://localhost:9999' })).toEqual([
      expect.stringMatching(/^DIGIDENTITY_ISSUER: http:/),
    ]);
    expect(
      loadConfig({ ...client, DIGIDENTITY_ISSUER: 'http://localhost:9999', OIDC_ALLOW_INSECURE_HTTP: 'true' })
        .digidentity,
    ).toMatchObject({
      sandbox: false,
      issuer: new URL('http://localhost:9999'),
    });
    expect(
      problemsFor({ ...client, DIGIDENTITY_ISSUER: 'https://x.example', DIGIDENTITY_PRODUCT_SCOPE: 'short' }),
    ).toEqual([expect.stringMatching(/^DIGIDENTITY_PRODUCT_SCOPE:/)]);
  });

  it('leaves iDIN off unless enabled; enabled without an issuer, starts its sandbox on a developer machine only', () => {
    expect(loadConfig({}).signicatIdin).toBeNull();
    expect(loadConfig({ SIGNICAT_IDIN_ENABLED: 'true' }).signicatIdin).toEqual({
      sandbox: true,
      scopes: ['openid', 'idp-id', 'idin-name'],
      bankBic: null,
      idTokenAlgorithms: ['RS256', 'PS256', 'ES256'],
      unknownIdentityPolicy: 'pending',
      sandboxPort: 3002,
    });
    expect(
      problemsFor({
        NODE_ENV: 'production',
        PUBLIC_BASE_URL: 'https://portal.example',
        SERMI_GRANT_SIGNING_KEY: GRANT_KEY,
        DIGIDENTITY_ENABLED: 'false',
        SIGNICAT_IDIN_ENABLED: 'true',
      }),
    ).toEqual(['SIGNICAT_IDIN_ISSUER: required in production (set SIGNICAT_IDIN_ENABLED=false to run without iDIN)']);
    expect(problemsFor({ SIGNICAT_IDIN_ENABLED: 'true', SIGNICAT_IDIN_CLIENT_ID: 'real-client' })).toEqual([
      expect.stringMatching(/^SIGNICAT_IDIN_ISSUER: required when SIGNICAT_IDIN_CLIENT_ID is set/),
    ]);
    expect(
      problemsFor({
        SIGNICAT_IDIN_ENABLED: 'true',
        DIGIDENTITY_ENABLED: 'false',
        PUBLIC_BASE_URL: 'https://portal.example',
      }),
    ).toEqual([expect.stringMatching(/^SIGNICAT_IDIN_ISSUER: required unless PUBLIC_BASE_URL is on localhost/)]);
  });

  it('requires the client settings with a real iDIN issuer, and refuses unusable scopes, BICs and policies', () => {
    const idin = { SIGNICAT_IDIN_ENABLED: 'true', SIGNICAT_IDIN_ISSUER: 'https://rmi.sandbox.signicat.com/auth/open' };
    expect(problemsFor(idin)).toEqual([
      'SIGNICAT_IDIN_CLIENT_ID: required when SIGNICAT_IDIN_ISSUER is set',
      'SIGNICAT_IDIN_CLIENT_SECRET: required when SIGNICAT_IDIN_ISSUER is set',
    ]);
    const client = { ...idin, SIGNICAT_IDIN_CLIENT_ID: 'c', SIGNICAT_IDIN_CLIENT_SECRET: 's' };
    expect(
      loadConfig({
        ...client,
        SIGNICAT_IDIN_SCOPES: 'openid  idp-id profile eighteen-or-older',
        SIGNICAT_IDIN_BANK_BIC: 'CURRNL2A',
        SIGNICAT_IDIN_UNKNOWN_IDENTITY_POLICY: 'provision',
      }).signicatIdin,
    ).toMatchObject({
      sandbox: false,
      issuer: new URL('https://rmi.sandbox.signicat.com/auth/open'),
      clientId: 'c',
      clientSecret: 's',
      scopes: ['openid', 'idp-id', 'profile', 'eighteen-or-older'],
      bankBic: 'CURRNL2A',
      unknownIdentityPolicy: 'provision',
    });
    expect(problemsFor({ ...client, SIGNICAT_IDIN_SCOPES: 'idin-name' })).toEqual([
      'SIGNICAT_IDIN_SCOPES: must contain openid and idp-id',
    ]);
    expect(problemsFor({ ...client, SIGNICAT_IDIN_SCOPES: 'openid idp-id date-of-birth eighteen-or-older' })).toEqual([
      expect.stringMatching(/^SIGNICAT_IDIN_SCOPES: date-of-birth and eighteen-or-older are mutually exclusive/),
    ]);
    expect(problemsFor({ ...client, SIGNICAT_IDIN_SCOPES: 'openid,idp-id' })).toEqual([
      expect.stringMatching(/^SIGNICAT_IDIN_SCOPES:/),
    ]);
    expect(problemsFor({ ...client, SIGNICAT_IDIN_BANK_BIC: 'rabo' })).toEqual([
      expect.stringMatching(/^SIGNICAT_IDIN_BANK_BIC:/),
    ]);
    expect(problemsFor({ ...client, SIGNICAT_IDIN_UNKNOWN_IDENTITY_POLICY: 'merge' })).toEqual([
      expect.stringMatching(/^SIGNICAT_IDIN_UNKNOWN_IDENTITY_POLICY:/),
    ]);
    expect(problemsFor({ ...client, SIGNICAT_IDIN_ID_TOKEN_ALGORITHMS: 'RS256,HS256' })).toEqual([
      expect.stringMatching(/^SIGNICAT_IDIN_ID_TOKEN_ALGORITHMS:/),
    ]);
    expect(problemsFor({ ...client, SIGNICAT_IDIN_ISSUER: 'http://localhost:3002/auth/open' })).toEqual([
      expect.stringMatching(/^SIGNICAT_IDIN_ISSUER: http:/),
    ]);
  });

  it('gives every sandbox its own default port, so all providers can run as sandboxes at once', () => {
    const config = loadConfig({
      SIGNICAT_IDIN_ENABLED: 'true',
      ITSME_ENABLED: 'true',
      SIGNICAT_EHERKENNING_ENABLED: 'true',
    });
    const ports = [
      config.digidentity?.sandboxPort,
      config.signicatIdin?.sandboxPort,
      config.itsme?.sandboxPort,
      config.signicatEherkenning?.sandboxPort,
    ];
    expect(ports.every((port) => typeof port === 'number')).toBe(true);
    expect(new Set(ports).size).toBe(4);
  });

  it('leaves eHerkenning off unless enabled; without a base URL it is the sandbox, with one it needs the API client', () => {
    expect(loadConfig({}).signicatEherkenning).toBeNull();
    expect(loadConfig({ SIGNICAT_EHERKENNING_ENABLED: 'true' }).signicatEherkenning).toEqual({
      sandbox: true,
      loa: null,
      authenticationHosts: [],
      language: 'nl',
      unknownIdentityPolicy: 'pending',
      sandboxPort: 3004,
    });
    expect(
      problemsFor({
        NODE_ENV: 'production',
        PUBLIC_BASE_URL: 'https://portal.example',
        SERMI_GRANT_SIGNING_KEY: GRANT_KEY,
        DIGIDENTITY_ENABLED: 'false',
        SIGNICAT_EHERKENNING_ENABLED: 'true',
      }),
    ).toEqual([
      'SIGNICAT_EHERKENNING_BASE_URL: required in production (set SIGNICAT_EHERKENNING_ENABLED=false to run without eHerkenning)',
    ]);
    expect(problemsFor({ SIGNICAT_EHERKENNING_ENABLED: 'true', SIGNICAT_EHERKENNING_CLIENT_SECRET: 's' })).toEqual([
      expect.stringMatching(/^SIGNICAT_EHERKENNING_BASE_URL: required when SIGNICAT_EHERKENNING_CLIENT_SECRET is set/),
    ]);
    const real = { SIGNICAT_EHERKENNING_ENABLED: 'true', SIGNICAT_EHERKENNING_BASE_URL: 'https://api.signicat.com' };
    expect(problemsFor(real)).toEqual([
      'SIGNICAT_EHERKENNING_CLIENT_ID: required when SIGNICAT_EHERKENNING_BASE_URL is set',
      'SIGNICAT_EHERKENNING_CLIENT_SECRET: required when SIGNICAT_EHERKENNING_BASE_URL is set',
    ]);
    const client = { ...real, SIGNICAT_EHERKENNING_CLIENT_ID: 'c', SIGNICAT_EHERKENNING_CLIENT_SECRET: 's' };
    expect(
      loadConfig({
        ...client,
        SIGNICAT_EHERKENNING_LOA: 'high',
        SIGNICAT_EHERKENNING_AUTHENTICATION_HOSTS: 'login.portal.example,id.portal.example:8443',
        SIGNICAT_EHERKENNING_LANGUAGE: 'en',
        SIGNICAT_EHERKENNING_UNKNOWN_IDENTITY_POLICY: 'provision',
      }).signicatEherkenning,
    ).toEqual({
      sandbox: false,
      baseUrl: new URL('https://api.signicat.com'),
      clientId: 'c',
      clientSecret: 's',
      loa: 'high',
      authenticationHosts: ['login.portal.example', 'id.portal.example:8443'],
      language: 'en',
      unknownIdentityPolicy: 'provision',
      sandboxPort: 3004,
    });
    expect(
      problemsFor({ ...client, SIGNICAT_EHERKENNING_AUTHENTICATION_HOSTS: 'https://login.portal.example' }),
    ).toEqual([expect.stringMatching(/^SIGNICAT_EHERKENNING_AUTHENTICATION_HOSTS: .*host\[:port\] names/)]);
    expect(problemsFor({ ...client, SIGNICAT_EHERKENNING_LOA: 'EH3' })).toEqual([
      expect.stringMatching(/^SIGNICAT_EHERKENNING_LOA:/),
    ]);
    expect(problemsFor({ ...client, SIGNICAT_EHERKENNING_BASE_URL: 'http://localhost:3003' })).toEqual([
      expect.stringMatching(/^SIGNICAT_EHERKENNING_BASE_URL: http:/),
    ]);
    expect(problemsFor({ ...client, SIGNICAT_EHERKENNING_BASE_URL: 'https://u:p@api.signicat.com' })).toEqual([
      expect.stringMatching(/^SIGNICAT_EHERKENNING_BASE_URL: must be a plain URL/),
    ]);
  });

  it('refuses symmetric and unsigned ID token algorithms', () => {
    expect(problemsFor({ DIGIDENTITY_ID_TOKEN_ALGORITHMS: 'RS256,HS256' })).toEqual([
      expect.stringMatching(/^DIGIDENTITY_ID_TOKEN_ALGORITHMS:/),
    ]);
    expect(problemsFor({ DIGIDENTITY_ID_TOKEN_ALGORITHMS: 'none' })).toEqual([
      expect.stringMatching(/^DIGIDENTITY_ID_TOKEN_ALGORITHMS:/),
    ]);
  });

  it('refuses an idle timeout longer than the absolute one', () => {
    expect(problemsFor({ SESSION_IDLE_TIMEOUT_SECONDS: '7200', SESSION_ABSOLUTE_TIMEOUT_SECONDS: '3600' })).toEqual([
      expect.stringMatching(/^SESSION_IDLE_TIMEOUT_SECONDS:/),
    ]);
  });

  it('parses trusted origins and proxy settings', () => {
    const config = loadConfig({
      PUBLIC_BASE_URL: 'https://portal.example/app',
      TRUSTED_ORIGINS: 'https://admin.example, https://other.example:8443/',
      TRUST_PROXY: '1',
      DIGIDENTITY_ENABLED: 'false',
    });
    expect([...config.http.trustedOrigins]).toEqual([
      'https://portal.example',
      'https://admin.example',
      'https://other.example:8443',
    ]);
    expect(config.http.trustProxy).toBe(1);
  });
});
