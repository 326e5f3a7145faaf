import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { createApp } from './app/app.factory.js';
import { type AppConfig, loadConfig, usesSandbox } from './app/app.config.js';
import { ConfigurationError } from './config/validate-env.js';
import { createRootLogger } from './common/logging/logger.js';
import { NonBlockingLogStream } from './common/logging/non-blocking-log-stream.js';
import { openDatabaseServer } from './database/database-server.js';

function readConfig(): AppConfig {
  // Variables already set in the environment win over the file.
  const envFile = process.env.ENV_FILE ?? '.env';
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

const config = readConfig();
// Logging never waits for the reader of stdout (see NonBlockingLogStream): a stalled log collector must not freeze
// request handling or the shutdown.
const logStream = new NonBlockingLogStream(1);
const logger = createRootLogger(config.logLevel, logStream);
/** The last lines out before the process ends, as far as the reader takes them within a second. */
const exitAfterFlush = async (code: number): Promise<never> => {
  await logStream.flush(1000);
  process.exit(code);
};
process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));

try {
  const database = await openDatabaseServer(config.database, (message) => logger.info(message));
  // Sandbox code is loaded only when a provider has no real settings (never in production).
  const sandboxes = usesSandbox(config)
    ? await (await import('../sandbox/resolve-sandbox.js')).resolveSandboxProviders(config, logger)
    : { config, modules: [], close: async () => undefined };
  const app = await createApp(
    { ...sandboxes.config, database: { ...config.database, url: database.url } },
    logger,
    sandboxes.modules,
  );
  await app.listen(config.http.port, config.http.host);
  logger.info({ url: await app.getUrl(), publicBaseUrl: config.http.publicBaseUrl.href }, 'listening');

  let stoppingSince: number | undefined;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      // Past the shutdown timeout the process should be gone already: whatever holds it, exit now.
      if (Date.now() - stoppingSince >= config.http.shutdownTimeoutMs) process.exit(1);
      logger.warn({ signal }, 'already shutting down');
      return;
    }
    stoppingSince = Date.now();
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    // Nothing on this path waits for the log reader: the forced exit happens whatever stdout does.
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.http.shutdownTimeoutMs);
    force.unref();
    try {
      await app.close();
      await sandboxes.close();
      await database.stop();
      logger.info('stopped');
      await exitAfterFlush(0);
    } catch (error) {
      logger.error({ err: error }, 'error during shutdown');
      await exitAfterFlush(1);
    }
  };
  // Repeated signals (a second Ctrl+C, a supervisor and its child both signalled) must not cut the shutdown
  // short: SHUTDOWN_TIMEOUT_SECONDS bounds it instead; one that comes after that time exits at once.
  process.on('SIGTERM', (signal) => void shutdown(signal));
  process.on('SIGINT', (signal) => void shutdown(signal));
} catch (error) {
  logger.fatal({ err: error }, 'failed to start');
  await exitAfterFlush(1);
}
