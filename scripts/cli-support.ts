import { existsSync } from 'node:fs';
import { type AppConfig, loadConfig } from '../src/app/app.config.js';
import { openDatabaseServer, type DatabaseServer } from '../src/database/database-server.js';

/** Scripts read the same configuration as the app: the environment, then ENV_FILE (default `.env`). */
export function loadScriptConfig(overrides: Record<string, string> = {}): AppConfig {
  const envFile = process.env.ENV_FILE ?? '.env';
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return loadConfig({ ...process.env, ...overrides });
}

/** DATABASE_URL, or the embedded Postgres the app would use (started if needed, stopped again after). */
export async function openScriptDatabase(): Promise<DatabaseServer> {
  return openDatabaseServer(loadScriptConfig().database, (message) => console.error(message));
}

export async function runScript(main: () => Promise<number | void>): Promise<void> {
  try {
    process.exitCode = (await main()) ?? 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
