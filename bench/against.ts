import { DECISIONS_TITLE, decisionRequest, decisionSessionsAt } from './decisions.js';
import { checkOutAndBuild } from './other-build.js';
import { nodeFlagsText, startBackend } from './processes.js';
import { type Rig, seedAdmin } from './rig.js';
import { DECISIONS } from './settings.js';
import { alternateLoad, backendSystem, loginsAndMe, printSideBySide, type System } from './side-by-side.js';

/**
 * `--against REV`: this build and REV's, each on a database of its own on the same Postgres and at the same sandbox,
 * in alternating windows: returning logins, "who am I" and SERMI decisions, printed side by side (ratio this/REV).
 * For the A/B of a change: both run in one process of the bench, so the machine's drift falls on both.
 */
export async function reportAgainst(rig: Rig, { revision, commit }: { revision: string; commit: string }) {
  const other = await checkOutAndBuild(commit);
  try {
    const base = `http://localhost:${rig.againstPort}`;
    const service = await startBackend(
      rig.againstPort,
      { ...rig.backendSettings, PUBLIC_BASE_URL: base, DATABASE_URL: rig.databases.against.url },
      other.dir,
      { inspect: true },
    );
    try {
      await seedAdmin(rig.databases.against.url);
      const systems = [
        backendSystem('this build', rig.backend, rig.databases.backend.name, rig.base),
        backendSystem(other.commit.slice(0, 10), service, rig.databases.against.name, base),
      ];
      console.log(
        `\nThis build against ${revision} (${other.commit}); Node flags of their images: ${nodeFlagsText()} / ${nodeFlagsText(other.dir)}`,
      );
      await loginsAndMe(systems, rig, 'GET /api/me');
      const sessions = new Map<System, Record<string, string>[]>();
      for (const system of systems) sessions.set(system, await decisionSessionsAt(system.login.base, rig.personas));
      const decisions = await alternateLoad(systems, rig.usage, DECISIONS.concurrency, (system) =>
        decisionRequest(sessions.get(system)!),
      );
      printSideBySide(DECISIONS_TITLE, 'decision', decisions);
    } finally {
      await service.stop();
    }
  } finally {
    await other.remove();
  }
}
