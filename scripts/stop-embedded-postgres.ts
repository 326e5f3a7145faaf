import { existsSync } from 'node:fs';
import { EmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { loadScriptConfig, runScript } from './cli-support.js';

/**
 * `npm run db:stop`: stops the embedded Postgres of this checkout. Needed only when the backend was killed
 * hard (kill -9): its Postgres keeps running and the next start reuses it instead of starting another.
 */
await runScript(async () => {
  const { embedded } = loadScriptConfig().database;
  if (!existsSync(embedded.dataDir)) {
    console.error(`no embedded Postgres in ${embedded.dataDir}`);
    return 0;
  }
  const stopped = await EmbeddedPostgres.stopRunning(embedded.dataDir, (message) => console.error(message));
  console.error(`embedded Postgres in ${embedded.dataDir} ${stopped ? 'stopped' : 'was not running'}`);
  return 0;
});
