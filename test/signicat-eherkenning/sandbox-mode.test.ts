import { describe, expect, it } from '@jest/globals';
import { EHERKENNING_PERSONAS } from '../../sandbox/signicat-eherkenning/personas.js';
import { Browser } from '../support/browser.js';
import { freePort, runTypeScript } from '../support/spawn-process.js';
import { createTestDatabase } from '../support/test-database.js';

const [JANSEN] = EHERKENNING_PERSONAS;

describe('npm start with SIGNICAT_EHERKENNING_ENABLED=true and no base URL', () => {
  it('starts the eHerkenning sandbox with a loud warning, and a person signs in from /sandbox', async () => {
    const httpPort = await freePort();
    const base = `http://localhost:${httpPort}`;
    const sandboxPort = await freePort();
    // The suite's Postgres (DATABASE_URL), not a second embedded server: the sandbox wiring is what is tested here.
    const database = await createTestDatabase();
    const backend = runTypeScript('src/main.ts', {
      PORT: String(httpPort),
      PUBLIC_BASE_URL: base,
      DATABASE_URL: database.url,
      DIGIDENTITY_ENABLED: 'false',
      SIGNICAT_EHERKENNING_ENABLED: 'true',
      SIGNICAT_EHERKENNING_UNKNOWN_IDENTITY_POLICY: 'provision',
      SANDBOX_SIGNICAT_EHERKENNING_PORT: String(sandboxPort),
    });
    try {
      await backend.waitForLog((line) => line.msg === 'listening');
      const banner = await backend.waitForLog((line) =>
        String(line.msg).startsWith('SANDBOX — not for production: Signicat eHerkenning'),
      );
      expect(banner).toMatchObject({ level: 'warn', baseUrl: `http://localhost:${sandboxPort}` });

      const browser = new Browser();
      const portal = await browser.request(`${base}/sandbox`);
      expect(portal.body).toContain('href="/auth/signicat-eherkenning/login"');
      const page = await browser.follow(`${base}/auth/signicat-eherkenning/login?returnTo=/api/me`);
      expect(page.url.startsWith(`http://localhost:${sandboxPort}/authenticate/`)).toBe(true);
      const signedIn = await browser.follow(`${page.url}/login`, () => false, { form: { persona: JANSEN.id } });
      expect(signedIn.url).toBe(`${base}/api/me`);
      expect(signedIn.json<{ links: Array<{ attributes: Record<string, string> }> }>().links[0].attributes).toEqual({
        chamberOfCommerce: '12345678',
        eherkenningVestigingsNr: '000012345678',
        eherkenningPseudo: 'pseudo-jansen-12345678',
        organisationName: 'Autobedrijf Jansen B.V.',
      });
      expect(backend.stdout()).not.toContain('access_token');
    } finally {
      backend.child.kill('SIGTERM');
      expect(await backend.exited).toBe(0);
      await database.drop();
    }
  }, 180_000);
});
