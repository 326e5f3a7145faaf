import { applyMigrations } from '../src/app/migrations.js';
import { schemaDiff } from '../src/app/schema-drift.js';
import { openScriptDatabase, runScript } from './cli-support.js';
import { withScratchDatabase } from './scratch-database.js';

/** Fails when the entities and the migrations disagree (applies all migrations to a scratch database first). */
await runScript(async () => {
  const server = await openScriptDatabase();
  try {
    const diff = await withScratchDatabase(server.url, async (url) => {
      await applyMigrations(url);
      return schemaDiff(url);
    });
    if (diff.up.length > 0) {
      console.error('entities and migrations disagree; run `npm run migration:generate -- <Name>`. Pending changes:');
      for (const query of diff.up) console.error(`  ${query}`);
      return 1;
    }
    console.error('entities and migrations agree');
    return 0;
  } finally {
    await server.stop();
  }
});
