import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';
import { EnvInteger } from '../config/env-transforms.js';

/**
 * Security-related RMI: how fresh a SERMI login must be, the chain binding, the signed access grants and the access
 * log (docs/sermi.md).
 * @title SERMI
 */
export class SermiEnvironment {
  /** How old an IOE's SERMI login may be when it asks for security-related RMI (docs/sermi.md#the-rules, rule 7). */
  @EnvInteger()
  @IsInt()
  @Min(60)
  @Max(24 * 3600)
  SERMI_IOE_MAX_AGE_SECONDS = 30 * 60;

  /**
   * The same for an RSSE chain session, which also ends at this age, never extended (docs/sermi.md#the-rules,
   * rule 5).
   */
  @EnvInteger()
  @IsInt()
  @Min(60)
  @Max(24 * 3600)
  SERMI_RSSE_MAX_AGE_SECONDS = 15 * 60;

  /**
   * `first_vehicle`: a chain authorisation gets security-related RMI for the first vehicle it is granted only;
   * `none`: no binding.
   */
  @IsIn(['first_vehicle', 'none'])
  SERMI_CHAIN_VEHICLE_BINDING: 'first_vehicle' | 'none' = 'first_vehicle';

  /** Lifetime of the signed access grants. */
  @EnvInteger()
  @IsInt()
  @Min(30)
  @Max(900)
  SERMI_GRANT_TTL_SECONDS = 180;

  /** `aud` of the signed access grants. */
  @IsString()
  @Matches(/^\S{1,200}$/, { message: 'SERMI_GRANT_AUDIENCE must be a non-empty string without spaces' })
  SERMI_GRANT_AUDIENCE = 'rmi-content';

  /**
   * PKCS#8 PEM of the P-256 key that signs grants (`\n` may be written as a literal backslash-n). Required in
   * production; outside it an ephemeral key is generated (published by every instance like any signing key).
   */
  @IsOptional()
  @IsString()
  SERMI_GRANT_SIGNING_KEY?: string;

  /**
   * SPKI PEMs of P-256 public keys published in the JWKS next to the signing key, never used to sign: the next key,
   * announced before a rotation (docs/sermi.md#rotating-the-grant-key). Previous keys need no listing: they stay
   * published by themselves (AccessGrantSigner).
   */
  @IsOptional()
  @IsString()
  SERMI_GRANT_PUBLISHED_PUBLIC_KEYS?: string;

  /**
   * Access log records older than this are purged (whole sealed batches; an anchor keeps the rest verifiable). Set it
   * to your legal retention period. Written, when the app runs the migrations, to the row the database's purge
   * function reads its floor from: the runtime role cannot purge younger records.
   */
  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(36500)
  SERMI_LOG_RETENTION_DAYS = 730;

  /** How often new access log records are sealed into the hash chain; `0` turns the scheduled sealing off. */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  SERMI_LOG_SEAL_INTERVAL_MS = 1000;

  /** How often access log records past the retention are purged; `0` turns the scheduled purge off. */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 3600)
  SERMI_LOG_PURGE_INTERVAL_SECONDS = 3600;

  /**
   * Several instances: the `SERMI_LOG_WRITER_PORT` listener of the one instance that writes the access log records
   * of all, so that their decisions share its statements and commits instead of each instance batching its own
   * share (docs/operations.md#one-writer-for-the-access-log). Give every instance the same value, the writer
   * included (it recognises itself). Unset: each instance writes its own records. An instance that cannot reach the
   * writer writes its own until it can again.
   */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  SERMI_LOG_WRITER_URL?: string;

  /**
   * Port of a listener of its own on which this instance writes the records other instances send it (never the
   * public port); unset: none.
   */
  @IsOptional()
  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(65535)
  SERMI_LOG_WRITER_PORT?: number;

  /** Address of that listener: `0.0.0.0` in containers, on a network only the instances reach. */
  @IsString()
  @Matches(/^[0-9a-fA-F.:]+$|^localhost$/, { message: 'SERMI_LOG_WRITER_HOST must be an IP address or localhost' })
  SERMI_LOG_WRITER_HOST = '127.0.0.1';

  /**
   * A secret of at least 32 characters shared by the instances: every batch of records sent to the writer is signed
   * with it (HMAC-SHA256) and the writer refuses what it did not sign. Required with either setting above.
   */
  @IsOptional()
  @IsString()
  @Matches(/^[\x21-\x7e]{32,}$/, {
    message: 'SERMI_LOG_WRITER_SECRET must be at least 32 printable characters, no spaces',
  })
  SERMI_LOG_WRITER_SECRET?: string;

  /**
   * How long an instance waits for the writer's answer to a batch, connecting included (ms); then it writes that
   * batch itself. A decision waits at most this long for the writer.
   */
  @EnvInteger()
  @IsInt()
  @Min(100)
  @Max(60_000)
  SERMI_LOG_WRITER_ANSWER_TIMEOUT_MS = 2000;

  /** After the writer failed, an instance writes its own records for this long before it tries the writer again (ms). */
  @EnvInteger()
  @IsInt()
  @Min(100)
  @Max(600_000)
  SERMI_LOG_WRITER_RETRY_MS = 5000;
}

/** One instance writes the access log records of all (SERMI_LOG_WRITER_*); null: each writes its own. */
export interface AccessLogWriterSettings {
  /** Where this instance sends its records; null: it only writes (what it is sent and its own). */
  url: URL | null;
  /** This instance's listener for the others' records; null: none. */
  listen: { port: number; host: string } | null;
  secret: Buffer;
  answerTimeoutMs: number;
  retryMs: number;
}

export interface SermiSettings {
  ioeMaxAgeSeconds: number;
  rsseMaxAgeSeconds: number;
  chainVehicleBinding: 'first_vehicle' | 'none';
  grant: {
    ttlSeconds: number;
    audience: string;
    /** Null outside production when no key is configured: an ephemeral key is generated at start. */
    signingKey: KeyObject | null;
    /** Published for verification only (key rotation). */
    publishedPublicKeys: KeyObject[];
  };
  log: {
    retentionDays: number;
    sealIntervalMs: number;
    purgeIntervalSeconds: number;
    writer: AccessLogWriterSettings | null;
  };
}

export function sermiSettings(env: SermiEnvironment, nodeEnv: string, problems: string[]): SermiSettings {
  let signingKey: KeyObject | null = null;
  if (env.SERMI_GRANT_SIGNING_KEY) {
    try {
      signingKey = createPrivateKey(env.SERMI_GRANT_SIGNING_KEY.replace(/\\n/g, '\n'));
      if (signingKey.asymmetricKeyType !== 'ec' || signingKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
        problems.push('SERMI_GRANT_SIGNING_KEY: must be a P-256 (ES256) private key');
      }
    } catch {
      problems.push('SERMI_GRANT_SIGNING_KEY: not a PEM private key');
    }
  } else if (nodeEnv === 'production') {
    problems.push('SERMI_GRANT_SIGNING_KEY: required in production (a generated key changes with every restart)');
  }
  return {
    ioeMaxAgeSeconds: env.SERMI_IOE_MAX_AGE_SECONDS,
    rsseMaxAgeSeconds: env.SERMI_RSSE_MAX_AGE_SECONDS,
    chainVehicleBinding: env.SERMI_CHAIN_VEHICLE_BINDING,
    grant: {
      ttlSeconds: env.SERMI_GRANT_TTL_SECONDS,
      audience: env.SERMI_GRANT_AUDIENCE,
      signingKey,
      publishedPublicKeys: publishedPublicKeys(env.SERMI_GRANT_PUBLISHED_PUBLIC_KEYS, problems),
    },
    log: {
      retentionDays: env.SERMI_LOG_RETENTION_DAYS,
      sealIntervalMs: env.SERMI_LOG_SEAL_INTERVAL_MS,
      purgeIntervalSeconds: env.SERMI_LOG_PURGE_INTERVAL_SECONDS,
      writer: accessLogWriterSettings(env, problems),
    },
  };
}

function accessLogWriterSettings(env: SermiEnvironment, problems: string[]): AccessLogWriterSettings | null {
  const { SERMI_LOG_WRITER_URL: url, SERMI_LOG_WRITER_PORT: port, SERMI_LOG_WRITER_SECRET: secret } = env;
  if (url === undefined && port === undefined) return null;
  if (!secret) {
    problems.push('SERMI_LOG_WRITER_SECRET: required with SERMI_LOG_WRITER_URL or SERMI_LOG_WRITER_PORT');
    return null;
  }
  const writerUrl = url === undefined ? null : new URL(url);
  // Batches are signed with the secret; a user or password in the URL would be sent nowhere (and could be logged).
  if (writerUrl?.username || writerUrl?.password) {
    problems.push('SERMI_LOG_WRITER_URL: no user or password in the URL (batches are signed with the secret)');
    return null;
  }
  return {
    url: writerUrl,
    listen: port === undefined ? null : { port, host: env.SERMI_LOG_WRITER_HOST },
    secret: Buffer.from(secret, 'utf8'),
    answerTimeoutMs: env.SERMI_LOG_WRITER_ANSWER_TIMEOUT_MS,
    retryMs: env.SERMI_LOG_WRITER_RETRY_MS,
  };
}

const PUBLIC_KEY_PEM = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

function publishedPublicKeys(pems: string | undefined, problems: string[]): KeyObject[] {
  const text = (pems ?? '').replace(/\\n/g, '\n');
  const blocks = text.match(PUBLIC_KEY_PEM) ?? [];
  if (text.replace(PUBLIC_KEY_PEM, '').trim() !== '') {
    problems.push('SERMI_GRANT_PUBLISHED_PUBLIC_KEYS: only PEM public keys (BEGIN PUBLIC KEY), one after the other');
    return [];
  }
  const keys: KeyObject[] = [];
  for (const [index, block] of blocks.entries()) {
    try {
      const key = createPublicKey(block);
      if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') keys.push(key);
      else problems.push(`SERMI_GRANT_PUBLISHED_PUBLIC_KEYS: key ${index + 1} is not a P-256 (ES256) public key`);
    } catch {
      problems.push(`SERMI_GRANT_PUBLISHED_PUBLIC_KEYS: key ${index + 1} is not a readable PEM public key`);
    }
  }
  return keys;
}
