import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Peer, startPeer } from '../../bench/peer/peer.js';
import { logIn, peerLogin } from '../../bench/logins.js';
import { type DigidentitySandbox, startDigidentitySandbox } from '../../sandbox/digidentity/digidentity-sandbox.js';
import { PERSONAS } from '../../sandbox/digidentity/personas.js';
import { freePort } from '../support/free-port.js';
import { adminQuery, databaseUrl } from '../support/test-database.js';

/** The benchmark's idiomatic peer (bench/peer) really logs people in at the sandbox provider. */
describe('the idiomatic peer of the benchmark', () => {
  const database = `rmi_test_peer_${randomBytes(6).toString('hex')}`;
  let sandbox: DigidentitySandbox;
  let peer: Peer;
  const [ioe, rsse] = [PERSONAS[0], PERSONAS[2]];

  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE ${database}`);
    const port = await freePort();
    const base = `http://localhost:${port}`;
    sandbox = await startDigidentitySandbox({ redirectUris: [`${base}/auth/callback`] });
    peer = await startPeer({
      port,
      publicBaseUrl: base,
      databaseUrl: databaseUrl(database),
      poolSize: 2,
      issuer: sandbox.issuer,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      scope: `openid sermi ${sandbox.productScope}`,
      sessionSecret: randomBytes(32).toString('base64url'),
      allowInsecureRequests: true,
    });
  });
  afterAll(async () => {
    await peer.close();
    await sandbox.close();
    await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('logs a person in and answers /me from the session kept in Postgres', async () => {
    const route = peerLogin(peer.url);
    const browser = await logIn(route, ioe);
    expect(browser).toBeDefined();
    const me = await browser!.request(`${peer.url}/me`, { headers: route.proxyHeaders });
    expect(me.status).toBe(200);
    expect(me.json()).toMatchObject({ sub: ioe.id, claims: { ioeuid: ioe.claims.ioeuid } });
    const sessions = await adminQuery<{ count: string }>('SELECT count(*) FROM session', [], database);
    expect(Number(sessions.rows[0].count)).toBeGreaterThan(0);
  });

  it('upserts one users row per person however often they log in', async () => {
    const route = peerLogin(peer.url);
    expect(await logIn(route, rsse)).toBeDefined();
    expect(await logIn(route, rsse)).toBeDefined();
    const users = await adminQuery<{ claims: Record<string, string> }>(
      'SELECT claims FROM users WHERE subject = $1',
      [rsse.id],
      database,
    );
    expect(users.rows).toHaveLength(1);
    expect(users.rows[0].claims.rsseuid).toBe(rsse.claims.rsseuid);
  });

  it('refuses /me without a session', async () => {
    const response = await fetch(`${peer.url}/me`, { headers: { 'X-Forwarded-Proto': 'https' } });
    expect(response.status).toBe(401);
  });
});
