import { existsSync } from 'node:fs';
import { loadConfig } from '../src/config/app.config.js';
import { openDatabaseServer, type DatabaseServer } from '../src/database/database-server.js';

/** Scripts read the same configuration as the app (including `.env`) and use the same database server. */
export async function openScriptDatabase(): Promise<DatabaseServer> {
  const envFile = process.env.ENV_FILE ?? '.env';
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  const config = loadConfig(process.env);
  return openDatabaseServer(config.database, (message) => console.error(message));
}

export async function runScript(main: () => Promise<number | void>): Promise<void> {
  try {
    process.exitCode = (await main()) ?? 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
