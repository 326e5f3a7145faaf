import { describe, expect, it } from '@jest/globals';
import { freePort, runTypeScript } from '../support/spawn-process.js';

describe('npm run sandbox', () => {
  it("runs every sandbox on its SANDBOX_*_PORT, also for providers the backend's settings do not enable", async () => {
    const ports = {
      SANDBOX_DIGIDENTITY_PORT: String(await freePort()),
      SANDBOX_SIGNICAT_IDIN_PORT: String(await freePort()),
      SANDBOX_ITSME_PORT: String(await freePort()),
      SANDBOX_SIGNICAT_EHERKENNING_PORT: String(await freePort()),
    };
    const sandboxes = runTypeScript('scripts/sandbox.ts', ports);
    try {
      // As long as the other process starts are given (waitForLog): on a loaded CI run a start can take 30 s.
      const deadline = Date.now() + 60_000;
      while (!sandboxes.stdout().includes('Backend settings')) {
        if (Date.now() > deadline || sandboxes.child.exitCode !== null) throw new Error(sandboxes.stderr());
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const out = sandboxes.stdout();
      expect(out).toContain(`DIGIDENTITY_ISSUER=http://localhost:${ports.SANDBOX_DIGIDENTITY_PORT}`);
      expect(out).toContain(`SIGNICAT_IDIN_ISSUER=http://localhost:${ports.SANDBOX_SIGNICAT_IDIN_PORT}/auth/open`);
      expect(out).toContain(`ITSME_ISSUER=http://localhost:${ports.SANDBOX_ITSME_PORT}/v2`);
      expect(out).toContain(
        `SIGNICAT_EHERKENNING_BASE_URL=http://localhost:${ports.SANDBOX_SIGNICAT_EHERKENNING_PORT}`,
      );
      for (const port of Object.values(ports)) {
        expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBeLessThan(500);
      }
    } finally {
      sandboxes.child.kill('SIGTERM');
      await sandboxes.exited;
    }
  }, 180_000);
});
