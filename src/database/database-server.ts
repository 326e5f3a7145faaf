import type { AppConfig } from '../app/app.config.js';
import { EmbeddedPostgres } from './embedded-postgres.js';

export interface DatabaseServer {
  /** Connection URL for the application database. */
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/** DATABASE_URL when set; otherwise the embedded Postgres in EMBEDDED_POSTGRES_DIR (started if needed). */
export async function openDatabaseServer(
  database: AppConfig['database'],
  log: (message: string) => void,
): Promise<DatabaseServer> {
  if (database.url) return { url: database.url, embedded: false, stop: async () => undefined };
  const server = await EmbeddedPostgres.start({ ...database.embedded, log });
  log(`embedded Postgres on 127.0.0.1:${database.embedded.port}, data in ${database.embedded.dataDir}`);
  return { url: server.url, embedded: true, stop: () => server.stop() };
}
