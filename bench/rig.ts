import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type DigidentitySandbox, startDigidentitySandbox } from '../sandbox/digidentity/digidentity-sandbox.js';
import { IOE_CLAIMS, type Persona } from '../sandbox/digidentity/personas.js';
import { csrfTokenFor, hashSessionToken, newSessionToken } from '../src/access/session-token.js';
import { EmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { freePort } from '../test/support/free-port.js';
import { PostgresUsage, scratchDatabases } from './postgres-usage.js';
import { type Service, startBackend, startPeerProcess } from './processes.js';
import { type RoundRobinProxy, startRoundRobinProxy } from './proxy.js';
import { settings } from './settings.js';

/** Everything the scenarios run against: the backend and the peer, their databases, the sandbox, the proxy. */
export interface Rig {
  /** The backend's port and address (the callback registered at the sandbox). */
  port: number;
  base: string;
  backend: Service;
  /** What the backend was started with (a replacement on the same port takes them too). */
  backendSettings: Record<string, string>;
  peerBase: string;
  peer: Service;
  databases: { backend: Database; peer: Database; instances: Database; against: Database };
  /** Where a backend of another build listens for `--against` (the sandbox knows its callback). */
  againstPort: number;
  /** Unrouted until a scenario routes it; its address is registered at the sandbox. */
  proxy: RoundRobinProxy;
  sandbox: DigidentitySandbox;
  usage: PostgresUsage;
  personas: Persona[];
  /** An admin session on the backend: headers for audited writes, and the account it changes. */
  admin: { headers: Record<string, string>; targetId: string };
  /** SERMI decisions the backend answered so far, added by the decision scenarios; the access-log check compares. */
  decisionsAnswered: number;
  close(): Promise<void>;
}

interface Database {
  name: string;
  url: string;
}

/** DATABASE_URL's server when set, otherwise a temporary embedded one. */
async function postgresServer(): Promise<{ adminUrl: string; cleanup: () => Promise<void> }> {
  if (process.env.DATABASE_URL) return { adminUrl: process.env.DATABASE_URL, cleanup: async () => undefined };
  const dataDir = await mkdtemp(join(tmpdir(), 'rmi-bench-pg-'));
  await chmod(dataDir, 0o755);
  const server = await EmbeddedPostgres.start({ dataDir, port: await freePort(), durability: 'durable' });
  return {
    adminUrl: server.adminUrl,
    cleanup: async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** An admin with a session (for the audited write scenario), an account for it to change, and a security item. */
export async function seedAdmin(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const insertAccount = async (name: string, roles: string[]) =>
      (await client.query(`INSERT INTO accounts (display_name, roles) VALUES ($1, $2) RETURNING id`, [name, roles]))
        .rows[0].id as string;
    const adminId = await insertAccount('Bench admin', ['admin']);
    const targetId = await insertAccount('Bench target', []);
    await client.query(
      `INSERT INTO rmi_items (code, title, security_related) VALUES ('IMMO_KEY_PROGRAMMING', 'Key programming', true)
       ON CONFLICT (code) DO UPDATE SET security_related = true`,
    );
    const token = newSessionToken();
    await client.query(
      `INSERT INTO sessions (token_hash, account_id, provider, authenticated_at, last_seen_at, idle_expires_at, absolute_expires_at)
       VALUES ($1, $2, 'digidentity', now(), now(), now() + interval '1 hour', now() + interval '2 hours')`,
      [hashSessionToken(token), adminId],
    );
    return { token, targetId };
  } finally {
    await client.end();
  }
}

function benchPersonas(count: number): Persona[] {
  return Array.from({ length: count }, (_, i) => {
    const number = String(1_000_000_000 + i);
    return {
      id: `bench-${randomUUID()}`,
      label: `Bench IOE ${i}`,
      description: 'benchmark',
      claims: { ...IOE_CLAIMS, ioeuid: `NL/EXAMPLECAB/${number}B` },
    };
  });
}

/** Starts the rig; whatever started is stopped again when a later step fails. */
export async function startRig(): Promise<Rig> {
  const closers: (() => Promise<unknown>)[] = [];
  /** Runs every closer, newest first, even when one fails; then throws what failed. */
  const close = async () => {
    const failures: unknown[] = [];
    for (const closer of closers.splice(0).reverse()) await closer().catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw new AggregateError(failures, 'the bench rig did not stop cleanly');
  };
  try {
    const server = await postgresServer();
    closers.push(server.cleanup);
    const dbs = await scratchDatabases(server.adminUrl, ['backend', 'peer', 'instances', 'against']);
    closers.push(dbs.cleanup);
    const [backendDb, peerDb, instancesDb, againstDb] = dbs.names.map((name, i) => ({ name, url: dbs.urls[i] }));
    const usage = await PostgresUsage.connect(server.adminUrl);
    closers.push(() => usage.close());
    const [port, peerPort, againstPort] = [await freePort(), await freePort(), await freePort()];
    const base = `http://localhost:${port}`;
    const peerBase = `http://localhost:${peerPort}`;
    const proxy = await startRoundRobinProxy([]);
    closers.push(() => proxy.close());
    const personas = benchPersonas(settings.personaCount);
    const sandbox = await startDigidentitySandbox({
      redirectUris: [
        `${base}/auth/digidentity/callback`,
        `${peerBase}/auth/callback`,
        `http://localhost:${proxy.port}/auth/digidentity/callback`,
        `http://localhost:${againstPort}/auth/digidentity/callback`,
      ],
      personas,
    });
    closers.push(() => sandbox.close());
    const backendSettings = { PUBLIC_BASE_URL: base, DATABASE_URL: backendDb.url, ...sandbox.backendSettings };
    const started = await Promise.allSettled([
      startBackend(port, backendSettings, undefined, { inspect: true }),
      startPeerProcess(
        peerPort,
        {
          PUBLIC_BASE_URL: peerBase,
          DATABASE_URL: peerDb.url,
          OIDC_ISSUER: sandbox.issuer,
          OIDC_CLIENT_ID: sandbox.clientId,
          OIDC_CLIENT_SECRET: sandbox.clientSecret,
          OIDC_SCOPE: `openid sermi ${sandbox.productScope}`,
          SESSION_SECRET: randomBytes(32).toString('base64url'),
        },
        { inspect: true },
      ),
    ]);
    for (const result of started) if (result.status === 'fulfilled') closers.push(() => result.value.stop());
    const [backend, peer] = started.map((result) => {
      if (result.status === 'rejected') throw result.reason;
      return result.value;
    });
    const { token, targetId } = await seedAdmin(backendDb.url);
    const headers = {
      Cookie: `__Host-rmi_session=${token}`,
      Origin: base,
      'X-CSRF-Token': csrfTokenFor(token),
      'Content-Type': 'application/json',
    };
    return {
      port,
      base,
      backend,
      backendSettings,
      peerBase,
      peer,
      databases: { backend: backendDb, peer: peerDb, instances: instancesDb, against: againstDb },
      againstPort,
      proxy,
      sandbox,
      usage,
      personas,
      admin: { headers, targetId },
      decisionsAnswered: 0,
      close,
    };
  } catch (error) {
    await close().catch((failure: unknown) => console.error(failure));
    throw error;
  }
}
