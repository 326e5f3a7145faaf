import pg from 'pg';

/**
 * Writes SERMI_LOG_RETENTION_DAYS where `sermi_log_purge` reads the youngest cut-off it accepts. Only the tables'
 * owner may change it, so this runs on the migrations' connection, when the app runs them; the runtime role calls
 * the purge but cannot shorten what it keeps.
 */
export async function keepSermiLogFor(ownerUrl: string, days: number): Promise<void> {
  const client = new pg.Client({ connectionString: ownerUrl, application_name: 'rmi-identity-backend:migrations' });
  await client.connect();
  try {
    await client.query('UPDATE sermi_log_retention SET minimum_days = $1', [days]);
  } finally {
    await client.end();
  }
}
