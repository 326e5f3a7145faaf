import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ITSME_PERSONAS } from '../../sandbox/itsme/personas.js';
import { Browser } from '../support/browser.js';
import { freePort, runTypeScript } from '../support/spawn-process.js';

describe('the backend process with ITSME_ENABLED=true and no itsme settings', () => {
  let workDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'rmi-itsme-startup-'));
    // As root, Postgres runs as the postgres user, which must be able to enter the folder.
    await chmod(workDir, 0o755);
  });
  afterAll(async () => rm(workDir, { recursive: true, force: true }));

  it('starts the itsme sandbox with ephemeral keys, says so loudly, and a person can sign in', async () => {
    const httpPort = await freePort();
    const base = `http://localhost:${httpPort}`;
    const backend = runTypeScript('src/main.ts', {
      PORT: String(httpPort),
      PUBLIC_BASE_URL: base,
      EMBEDDED_POSTGRES_DIR: join(workDir, 'pgdata'),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      DIGIDENTITY_ENABLED: 'false',
      ITSME_ENABLED: 'true',
      ITSME_UNKNOWN_IDENTITY_POLICY: 'provision',
      SANDBOX_ITSME_PORT: String(await freePort()),
    });
    try {
      // Generous: the process compiles the app on the fly, and CI machines are shared.
      await backend.waitForLog((line) => line.msg === 'listening', 60_000);
      const banner = await backend.waitForLog((line) => String(line.msg).startsWith('SANDBOX — not for production'));
      expect(banner).toMatchObject({ level: 'warn', provider: 'itsme', ephemeralKeys: true });
      expect(String(banner.msg)).toContain('ephemeral');

      const web = new Browser();
      expect((await web.request(`${base}/sandbox`)).body).toContain('Sign in with itsme');
      const personaPage = await web.follow(`${base}/auth/itsme/login?returnTo=/api/me`);
      expect(personaPage.body).toContain(ITSME_PERSONAS[0].label);
      const signedIn = await web.follow(`${personaPage.url}/login`, () => false, {
        form: { persona: ITSME_PERSONAS[0].id },
      });
      expect(signedIn.url).toBe(`${base}/api/me`);
      expect(signedIn.json<{ account: { displayName: string } }>().account.displayName).toBe('Jan Peeters');

      const jwks = (await web.request(`${base}/auth/itsme/jwks.json`)).json<{ keys: Array<Record<string, unknown>> }>();
      expect(jwks.keys.map((key) => key.use)).toEqual(['sig', 'enc']);
      // Private key material never reaches the log.
      expect(backend.stdout()).not.toMatch(/"(d|p|q|dp|dq|qi)":"/);
    } finally {
      backend.child.kill('SIGTERM');
      expect(await backend.exited).toBe(0);
    }
  }, 120_000);
});
