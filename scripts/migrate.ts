import { applyMigrations } from '../src/app/migrations.js';
import { keepSermiLogFor } from '../src/sermi/access-log/sermi-log-retention.js';
import { loadScriptConfig, openScriptDatabase, runScript } from './cli-support.js';

/** Applies pending migrations: for deployments that run them separately (MIGRATIONS_RUN=false in the app). */
await runScript(async () => {
  const config = loadScriptConfig();
  const server = await openScriptDatabase();
  try {
    const ownerUrl = config.database.migrationUrl ?? server.url;
    const applied = await applyMigrations(ownerUrl);
    console.error(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'no pending migrations');
    // As the app does when it runs them: the access log's retention floor from SERMI_LOG_RETENTION_DAYS.
    await keepSermiLogFor(ownerUrl, config.sermi.log.retentionDays);
  } finally {
    await server.stop();
  }
});
