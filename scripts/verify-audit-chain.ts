import { DataSource } from 'typeorm';
import { AuditService } from '../src/audit/audit.service.js';
import { dataSourceOptions } from '../src/app/data-source-options.js';
import { openScriptDatabase, runScript } from './cli-support.js';

/**
 * `npm run audit:verify`: walks the audit hash chain; exit code 0 when intact, 1 with the first broken event.
 * Prints the chain head so it can be recorded outside the database.
 */
await runScript(async () => {
  const server = await openScriptDatabase();
  const dataSource = await new DataSource(dataSourceOptions({ url: server.url, poolSize: 1 })).initialize();
  try {
    const result = await new AuditService(dataSource).verifyChain();
    console.log(JSON.stringify(result));
    if (!result.valid) {
      console.error(`audit chain broken at event ${result.firstBroken?.seq}: ${result.firstBroken?.problem}`);
      return 1;
    }
    console.error(`audit chain intact: ${result.checkedEvents} events`);
    return 0;
  } finally {
    await dataSource.destroy();
    await server.stop();
  }
});
