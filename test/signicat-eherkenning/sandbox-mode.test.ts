import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EHERKENNING_PERSONAS } from '../../sandbox/signicat-eherkenning/personas.js';
import { Browser } from '../support/browser.js';
import { freePort, runTypeScript } from '../support/spawn-process.js';

const [JANSEN] = EHERKENNING_PERSONAS;

describe('npm start with SIGNICAT_EHERKENNING_ENABLED=true and no base URL', () => {
  let workDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'rmi-eherkenning-'));
    // As root, Postgres runs as the postgres user, which must be able to enter the folder.
    await chmod(workDir, 0o755);
  });
  afterAll(async () => rm(workDir, { recursive: true, force: true }));

  it('starts the eHerkenning sandbox with a loud warning, and a person signs in from /sandbox', async () => {
    const httpPort = await freePort();
    const base = `http://localhost:${httpPort}`;
    const sandboxPort = await freePort();
    const backend = runTypeScript('src/main.ts', {
      PORT: String(httpPort),
      PUBLIC_BASE_URL: base,
      EMBEDDED_POSTGRES_DIR: join(workDir, 'pgdata'),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
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
      expect(portal.body).toContain('/auth/signicat-eherkenning/login?returnTo=/api/me');
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
    }
  }, 60_000);
});
