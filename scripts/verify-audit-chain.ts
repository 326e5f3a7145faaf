import { DataSource } from 'typeorm';
import { AuditService } from '../src/audit/audit.service.js';
import { dataSourceOptions } from '../src/app/data-source-options.js';
import { openScriptDatabase, runScript } from './cli-support.js';

/**
 * `npm run audit:verify`: seals what can be sealed, then checks the audit trail (its legacy prefix and every seal);
 * exit code 0 when intact, 1 with the first broken event or seal. Prints the chain head so it can be recorded
 * outside the database, and how many events were left unsealed (their transactions were still open).
 */
await runScript(async () => {
  const server = await openScriptDatabase();
  const dataSource = await new DataSource(dataSourceOptions({ url: server.url, poolSize: 1 })).initialize();
  try {
    const result = await new AuditService(dataSource).verifyChain();
    console.log(JSON.stringify(result));
    if (!result.valid) {
      const { seq, sealSeq, eventId, problem } = result.firstBroken!;
      const where = [seq ? `event ${seq}` : null, sealSeq ? `seal ${sealSeq}` : null, eventId ? `id ${eventId}` : null];
      console.error(`audit chain broken at ${where.filter(Boolean).join(', ') || 'its anchor'}: ${problem}`);
      return 1;
    }
    console.error(
      `audit chain intact: ${result.checkedEvents} events in ${result.checkedSeals} seals, ${result.unsealedEvents} not sealed yet`,
    );
    return 0;
  } finally {
    await dataSource.destroy();
    await server.stop();
  }
});
