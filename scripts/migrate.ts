import { migrateAsOwner } from '../src/app/migrations.js';
import { loadScriptConfig, openScriptDatabase, runScript } from './cli-support.js';

/** Applies pending migrations: for deployments that run them separately (MIGRATIONS_RUN=false in the app). */
await runScript(async () => {
  const config = loadScriptConfig();
  const server = await openScriptDatabase();
  try {
    const applied = await migrateAsOwner(config.database.migrationUrl ?? server.url, config);
    console.error(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'no pending migrations');
  } finally {
    await server.stop();
  }
});
