import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import connectPgSimple from 'connect-pg-simple';
import express from 'express';
import session from 'express-session';
import * as client from 'openid-client';
import { Strategy, type VerifyFunction } from 'openid-client/passport';
import passport from 'passport';
import pg from 'pg';

/**
 * The relying party a typical Node team would write instead of this backend, for the side-by-side benchmark
 * (docs/benchmark.md#the-idiomatic-peer): Express + Passport with openid-client's own strategy, express-session in
 * Postgres through connect-pg-simple, and a users upsert on login — as those libraries' READMEs show them, with
 * production settings. It keeps no audit trail and applies no SERMI rules; nothing in it is slowed on purpose.
 */
export interface PeerOptions {
  port?: number;
  host?: string;
  /** The address browsers use (behind a TLS-terminating proxy in production; the bench says https to it). */
  publicBaseUrl: string;
  databaseUrl: string;
  poolSize?: number;
  issuer: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  sessionSecret: string;
  /** Only for a provider on plain http (the local sandbox). */
  allowInsecureRequests?: boolean;
}

export interface Peer {
  url: string;
  close(): Promise<void>;
}

interface PeerUser {
  id: string;
  sub: string;
  claims: Record<string, unknown>;
}

const USERS_TABLE = `
CREATE TABLE IF NOT EXISTS users (
  id bigserial PRIMARY KEY,
  issuer text NOT NULL,
  subject text NOT NULL,
  claims jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (issuer, subject)
)`;

const UPSERT_USER = `
INSERT INTO users (issuer, subject, claims) VALUES ($1, $2, $3)
ON CONFLICT (issuer, subject) DO UPDATE SET claims = EXCLUDED.claims, last_login_at = now()
RETURNING id`;

export async function startPeer(options: PeerOptions): Promise<Peer> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 20 });
  await pool.query(USERS_TABLE);

  const config = await client.discovery(
    new URL(options.issuer),
    options.clientId,
    undefined,
    client.ClientSecretBasic(options.clientSecret),
    options.allowInsecureRequests ? { execute: [client.allowInsecureRequests] } : undefined,
  );
  const issuer = config.serverMetadata().issuer;

  const login = async (tokens: Parameters<VerifyFunction>[0]): Promise<PeerUser> => {
    const sub = tokens.claims()!.sub;
    const claims = await client.fetchUserInfo(config, tokens.access_token, sub);
    const { rows } = await pool.query<{ id: string }>(UPSERT_USER, [issuer, sub, claims]);
    return { id: rows[0].id, sub, claims };
  };
  const verify: VerifyFunction = (tokens, verified) => {
    login(tokens).then(
      (user) => verified(null, user),
      (error: unknown) => verified(error),
    );
  };

  const store = new (connectPgSimple(session))({ pool, createTableIfMissing: true });
  const app = express();
  app.disable('x-powered-by');
  // TLS ends at a proxy on the same host; its X-Forwarded-Proto makes req.secure true, so the Secure cookie is set.
  app.set('trust proxy', 'loopback');
  app.use(
    session({
      store,
      name: '__Host-sid',
      secret: options.sessionSecret,
      resave: false,
      saveUninitialized: false,
      cookie: { secure: true, httpOnly: true, sameSite: 'lax', maxAge: 8 * 60 * 60 * 1000 },
    }),
  );
  app.use(passport.authenticate('session'));

  passport.use(
    'digidentity',
    new Strategy(
      { config, scope: options.scope, callbackURL: new URL('/auth/callback', options.publicBaseUrl) },
      verify,
    ),
  );
  // The whole user goes into the session, as in openid-client's Passport example: /me reads no users row.
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: PeerUser, done) => done(null, user));

  app.get('/login', passport.authenticate('digidentity'));
  app.get('/auth/callback', passport.authenticate('digidentity', { successRedirect: '/me' }));
  app.get('/me', (req, res) => {
    if (!req.isAuthenticated()) {
      res.status(401).json({ error: 'unauthenticated' });
      return;
    }
    const user = req.user as PeerUser;
    res.json({ id: user.id, sub: user.sub, claims: user.claims });
  });
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      store.close();
      await pool.end();
    },
  };
}
