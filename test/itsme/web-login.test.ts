import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { compactDecrypt, compactVerify, decodeJwt, importJWK, type JWK } from 'jose';
import { ITSME_PERSONAS } from '../../sandbox/itsme/personas.js';
import { ITSME_NATIONAL_NUMBER } from '../../sandbox/itsme/itsme-sandbox.js';
import type { LoginIntent } from '../../src/auth/login-starters.js';
import { ITSME_ACR } from '../../src/providers/itsme/itsme.config.js';
import { ItsmeLoginService } from '../../src/providers/itsme/itsme-login.service.js';
import { Browser } from '../support/browser.js';
import { auditEvents, createAccount } from '../support/factories.js';
import {
  confirmProviderSignOut,
  errorPage,
  footprint,
  loginFailures,
  pendingPage,
  SIGNED_OUT_MARKER,
} from '../support/providers-testbed.js';
import { ITSME_CALLBACK, startItsmeTestbed, type ItsmeTestbed } from '../support/itsme-testbed.js';
import { loginOfCallback } from '../support/web-login.js';

const [PEETERS, DUBOIS] = ITSME_PERSONAS;

interface Me {
  account: { id: string; displayName: string };
  links: Array<{ provider: string; attributes: Record<string, unknown> }>;
  session: { provider: string; authContext: Record<string, unknown> };
}

const me = (bed: ItsmeTestbed, browser: Browser) => browser.request(`${bed.app.baseUrl}/api/me`);

function intent(purpose: LoginIntent['purpose'], accountId: string | null = null): LoginIntent {
  return { purpose, accountId, returnTo: '/portal/home', browserBinding: 'b'.repeat(43) };
}

describe('itsme web login', () => {
  describe('with ITSME_UNKNOWN_IDENTITY_POLICY=provision', () => {
    let bed: ItsmeTestbed;
    beforeAll(async () => {
      bed = await startItsmeTestbed({
        env: {
          ITSME_UNKNOWN_IDENTITY_POLICY: 'provision',
          ITSME_SCOPES: 'profile email eid',
          ITSME_UI_LOCALES: 'nl fr',
        },
      });
    });
    afterEach(() => {
      bed.hostility = {};
    });
    afterAll(async () => bed?.close());

    it('ends the itsme session at sign-out too, with the signed ID token from inside the encrypted one', async () => {
      const browser = new Browser();
      const base = bed.app.baseUrl;
      await bed.login(browser, PEETERS.id);
      const reachesCallback = (url: string) => url.startsWith(`${base}${ITSME_CALLBACK}`);
      const answersSilently = async () =>
        reachesCallback((await browser.follow(`${base}/auth/itsme/login`, reachesCallback)).location ?? '');
      // Until then itsme answers a login at this browser from its single sign-on session, without its page.
      expect(await answersSilently()).toBe(true);
      const out = await browser.request(`${base}/auth/logout`, {
        method: 'POST',
        headers: { Origin: base, Accept: 'text/html' },
      });
      const signOutPage = new URL(out.location!);
      expect(`${signOutPage.origin}${signOutPage.pathname}`).toBe(`${bed.itsme.issuer}/logout`);
      // RP-Initiated Logout 1.0: an encrypted ID token goes back decrypted (itsme cannot read what was encrypted to
      // our key): a compact JWS of three parts, not the JWE of five the token endpoint answered.
      const hint = signOutPage.searchParams.get('id_token_hint')!;
      expect(hint.split('.')).toHaveLength(3);
      expect(decodeJwt(hint)).toMatchObject({ iss: bed.itsme.issuer, aud: bed.itsme.clientId });
      expect((await browser.request(await confirmProviderSignOut(browser, base, signOutPage.href))).location).toBe(
        `${base}/`,
      );
      // The next login at this browser meets itsme's sign-in page, even without the note that someone left.
      browser.cookies(base).delete(SIGNED_OUT_MARKER);
      expect(await answersSilently()).toBe(false);
    });

    it('signs a person in and keeps only allow-listed claims (never birth date or national number)', async () => {
      const browser = new Browser();
      const callback = await bed.login(browser, PEETERS.id, '/jobs/7');
      expect([callback.status, callback.location]).toEqual([302, `${bed.app.baseUrl}/jobs/7`]);
      const body = (await me(bed, browser)).json<Me>();
      expect(body.account.displayName).toBe('Jan Peeters');
      expect(body.session.provider).toBe('itsme');
      expect(body.session.authContext).toEqual({
        method: 'web',
        provider: 'itsme',
        acr: ITSME_ACR.advanced,
        newSignIn: true,
      });
      expect(body.links).toEqual([expect.objectContaining({ provider: 'itsme' })]);
      expect(body.links[0].attributes).toEqual({
        name: 'Jan Peeters',
        givenName: 'Jan',
        familyName: 'Peeters',
        email: 'jan.peeters@garage-peeters.example',
        emailVerified: true,
      });
      const [link] = await bed.app.dataSource.query(
        `SELECT issuer, subject, person_key, attributes FROM identity_links WHERE provider = 'itsme' AND subject = $1`,
        [PEETERS.id],
      );
      expect(link).toMatchObject({ issuer: bed.itsme.issuer, subject: PEETERS.id, person_key: null });
      const stored = JSON.stringify(await bed.app.dataSource.query(`SELECT * FROM identity_links`));
      expect(stored).not.toContain(String(PEETERS.claims[ITSME_NATIONAL_NUMBER]));
      expect(stored).not.toContain(String(PEETERS.claims.birthdate));
    });

    it('sends only client_id, response_type, scope and a request object signed by us and encrypted to itsme', async () => {
      const start = await new Browser().request(`${bed.app.baseUrl}/auth/itsme/login`);
      expect(start.status).toBe(302);
      const url = new URL(start.location!);
      expect(url.origin + url.pathname).toBe(`${bed.itsme.issuer}/authorization`);
      expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request', 'response_type', 'scope']);
      const jwe = url.searchParams.get('request')!;
      expect(jwe.split('.')).toHaveLength(5);
      const { plaintext, protectedHeader } = await compactDecrypt(jwe, bed.itsme.encryptionKey);
      expect(protectedHeader).toMatchObject({ alg: 'RSA-OAEP-256', kid: bed.itsme.encryptionKey.kid, cty: 'JWT' });
      const jws = new TextDecoder().decode(plaintext);
      const ourKey = await importJWK(bed.keys.signing.publicJwk as JWK, 'RS256');
      const verified = await compactVerify(jws, ourKey);
      expect(verified.protectedHeader).toMatchObject({ alg: 'RS256', kid: bed.keys.signing.kid });
      const claims = decodeJwt(jws);
      expect(claims).toMatchObject({
        iss: bed.itsme.clientId,
        aud: bed.itsme.issuer,
        client_id: bed.itsme.clientId,
        response_type: 'code',
        redirect_uri: `${bed.app.baseUrl}${ITSME_CALLBACK}`,
        scope: `openid service:${bed.itsme.serviceCode} profile email eid`,
        acr_values: ITSME_ACR.advanced,
        ui_locales: 'nl fr',
        code_challenge_method: 'S256',
      });
      expect(claims.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(claims.state).toBeTruthy();
      expect(claims.nonce).toBeTruthy();
      expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300);
      expect(claims.jti).toBeTruthy();
    });

    it('is refused by itsme (the sandbox) without an encrypted request object: plain, or signed only', async () => {
      const start = await new Browser().request(`${bed.app.baseUrl}/auth/itsme/login`);
      const url = new URL(start.location!);
      const { plaintext } = await compactDecrypt(url.searchParams.get('request')!, bed.itsme.encryptionKey);
      const jws = new TextDecoder().decode(plaintext);
      const plain = new URL(url.href);
      plain.searchParams.delete('request');
      for (const [name, value] of Object.entries(decodeJwt(jws))) plain.searchParams.set(name, String(value));
      const signedOnly = new URL(url.href);
      signedOnly.searchParams.set('request', jws);
      for (const attempt of [plain, signedOnly]) {
        const answer = await new Browser().request(attempt.href);
        expect(answer.status).toBe(400);
        expect(answer.body).toContain('invalid_request_object');
      }
    });

    it('authenticates at the token endpoint with private_key_jwt (iss = sub = client_id, aud = token endpoint)', async () => {
      await bed.login(new Browser(), DUBOIS.id);
      const request = bed.tokenRequests.at(-1)!;
      expect(request.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      expect(request.client_secret).toBeUndefined();
      expect(request.code_verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
      const assertion = decodeJwt(request.client_assertion);
      expect(assertion).toMatchObject({
        iss: bed.itsme.clientId,
        sub: bed.itsme.clientId,
        aud: `${bed.itsme.issuer}/token`,
      });
      expect(assertion.exp! - assertion.iat!).toBeLessThanOrEqual(60);
      expect(assertion.jti).toBeTruthy();
    });

    it('receives the ID token and user-info encrypted (nested JWTs) and decrypts them with our key', async () => {
      const seen: string[] = [];
      bed.hostility = {
        idToken: async (jwe) => (seen.push(jwe), jwe),
        userinfo: async (jwe) => (seen.push(jwe), jwe),
      };
      expect((await bed.login(new Browser(), DUBOIS.id)).location).toBe(`${bed.app.baseUrl}/portal/home`);
      expect(seen).toHaveLength(2);
      for (const jwe of seen) {
        expect(jwe.split('.')).toHaveLength(5);
        const header = JSON.parse(Buffer.from(jwe.split('.')[0], 'base64url').toString());
        expect(header).toMatchObject({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: bed.keys.encryption.kid });
        expect((await bed.innerOf(jwe)).split('.')).toHaveLength(3);
      }
    });

    it('publishes our signing key and current encryption key (not the previous one) at /auth/itsme/jwks.json', async () => {
      const response = await new Browser().request(`${bed.app.baseUrl}/auth/itsme/jwks.json`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toContain('public');
      const { keys } = response.json<{ keys: Array<Record<string, unknown>> }>();
      expect(keys.map((key) => [key.kid, key.use, key.alg])).toEqual([
        [bed.keys.signing.kid, 'sig', 'RS256'],
        [bed.keys.encryption.kid, 'enc', 'RSA-OAEP-256'],
      ]);
      for (const key of keys) expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    });

    it('asks for a fresh itsme login (prompt=login) for link and re-authentication intents only', async () => {
      const service = bed.app.app.get(ItsmeLoginService);
      const account = await createAccount(bed.app.dataSource);
      const meta = { clientIp: '127.0.0.1', userAgent: 'jest', requestId: null };
      const prompts = await Promise.all(
        (['login', 'link', 'reauthenticate'] as const).map(async (purpose) => {
          const url = await service.startRedirect(intent(purpose, purpose === 'login' ? null : account.id), meta);
          const { plaintext } = await compactDecrypt(url.searchParams.get('request')!, bed.itsme.encryptionKey);
          const claims = decodeJwt(new TextDecoder().decode(plaintext));
          return [purpose, claims.prompt ?? null, claims.code_challenge_method];
        }),
      );
      expect(prompts).toEqual([
        ['login', null, 'S256'],
        ['link', 'login', 'S256'],
        ['reauthenticate', 'login', 'S256'],
      ]);
    });

    it('refuses a replayed callback and creates no second session', async () => {
      const browser = new Browser();
      const callback = await bed.reachCallback(browser, PEETERS.id);
      expect((await browser.request(callback)).status).toBe(302);
      const after = await footprint(bed);
      const replay = await browser.request(callback);
      expect(replay.location).toBe(errorPage(bed, 'login_replayed'));
      expect(await footprint(bed)).toEqual(after);
      expect((await loginFailures(bed)).at(-1)).toMatchObject({ provider: 'itsme', code: 'login_replayed' });
    });

    it('refuses a callback delivered to another browser before calling itsme', async () => {
      const before = await footprint(bed);
      const tokenCalls = () => bed.requests.filter((path) => path.endsWith('/token')).length;
      const calls = tokenCalls();
      const elsewhere = await browserCallback();
      const stranger = await new Browser().request(elsewhere);
      expect(stranger.location).toBe(errorPage(bed, 'login_wrong_browser'));
      expect(tokenCalls()).toBe(calls);
      expect(await footprint(bed)).toEqual(before);
      // The counter does see token calls: a good login makes one.
      const good = new Browser();
      await good.request(await bed.reachCallback(good, PEETERS.id));
      expect(tokenCalls()).toBe(calls + 1);
    });

    it('refuses a callback after its login expired in the database, and writes nothing', async () => {
      const before = await footprint(bed);
      const browser = new Browser();
      const late = await bed.reachCallback(browser, PEETERS.id);
      // As the browser's cap on open logins expires its oldest, or a clock gone by.
      await bed.app.dataSource.query(
        `UPDATE login_transactions SET expires_at = now() - interval '1 second' WHERE provider = 'itsme' AND consumed_at IS NULL`,
      );
      expect((await browser.request(late)).location).toBe(errorPage(bed, 'login_expired'));
      expect(await footprint(bed)).toEqual(before);
      expect((await loginOfCallback(bed.app.dataSource, late)).consumed_at).not.toBeNull();
      expect((await browser.request(late)).location).toBe(errorPage(bed, 'login_replayed'));
    });

    async function browserCallback(): Promise<string> {
      return bed.reachCallback(new Browser(), PEETERS.id);
    }

    it('reports a login cancelled in itsme (access_denied) as login_cancelled', async () => {
      const browser = new Browser();
      const before = await footprint(bed);
      const page = await browser.follow(`${bed.app.baseUrl}/auth/itsme/login`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('Sign in with itsme');
      const response = await browser.follow(
        `${page.url}/abort`,
        (url) => url.startsWith(`${bed.app.baseUrl}/auth/login-error`),
        { form: {} },
      );
      expect(response.location).toBe(errorPage(bed, 'login_cancelled'));
      expect(await footprint(bed)).toEqual(before);
      expect((await loginFailures(bed)).at(-1)).toMatchObject({ provider: 'itsme', code: 'login_cancelled' });
    });

    it('answers a JSON client with problem+json and the stable code', async () => {
      const browser = new Browser();
      const callback = await bed.reachCallback(browser, PEETERS.id);
      await browser.request(callback);
      const replay = await browser.request(callback, { headers: { accept: 'application/json' } });
      expect(replay.status).toBe(400);
      expect(replay.headers.get('content-type')).toContain('application/problem+json');
      expect(replay.json<{ code: string }>().code).toBe('login_replayed');
    });
  });

  describe('with the default policy (pending)', () => {
    let bed: ItsmeTestbed;
    beforeAll(async () => {
      bed = await startItsmeTestbed();
    });
    afterAll(async () => bed?.close());

    it('holds an unknown itsme identity as pending: no account, no session; audited as held', async () => {
      const before = await footprint(bed);
      const browser = new Browser();
      const response = await bed.login(browser, DUBOIS.id);
      expect(response.location).toEqual(pendingPage(bed));
      expect(await footprint(bed)).toEqual({ ...before, pending: before.pending + 1 });
      expect((await me(bed, browser)).status).toBe(401);
      const [pending] = await bed.app.dataSource.query(
        `SELECT provider, issuer, reason, person_key, attributes, raw_claims FROM pending_identities WHERE subject = $1`,
        [DUBOIS.id],
      );
      expect(pending).toMatchObject({
        provider: 'itsme',
        issuer: bed.itsme.issuer,
        reason: 'unknown_identity',
        person_key: null,
        attributes: { name: 'Marie Dubois', givenName: 'Marie', familyName: 'Dubois' },
      });
      expect(JSON.stringify(pending)).not.toContain(String(DUBOIS.claims.birthdate));
      const [held] = (await auditEvents(bed.app.dataSource, 'auth.login_held')).slice(-1);
      expect(held.details).toMatchObject({ provider: 'itsme', reason: 'unknown_identity' });
    });
  });
});
