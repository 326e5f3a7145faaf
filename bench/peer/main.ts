import { startPeer } from './peer.js';

/** The idiomatic peer in its own process, as the benchmark runs it (settings from the environment). */
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const peer = await startPeer({
  port: Number(required('PORT')),
  publicBaseUrl: required('PUBLIC_BASE_URL'),
  databaseUrl: required('DATABASE_URL'),
  poolSize: Number(process.env.DATABASE_POOL_SIZE ?? 20),
  issuer: required('OIDC_ISSUER'),
  clientId: required('OIDC_CLIENT_ID'),
  clientSecret: required('OIDC_CLIENT_SECRET'),
  scope: required('OIDC_SCOPE'),
  sessionSecret: required('SESSION_SECRET'),
  allowInsecureRequests: process.env.OIDC_ALLOW_INSECURE_HTTP === 'true',
});
process.once('SIGTERM', () => {
  void peer.close().then(() => process.exit(0));
});
