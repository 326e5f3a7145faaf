import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/app/data-source-options.js';
import { SermiLogVerifier } from '../src/sermi/access-log/sermi-log-verifier.js';
import { openScriptDatabase, runScript } from './cli-support.js';

/**
 * `npm run sermi:verify-log`: checks the SERMI access log's hash chain; exit code 0 when intact, 1 with the first
 * broken seal or record. Prints the chain head so it can be recorded outside the database.
 */
await runScript(async () => {
  const server = await openScriptDatabase();
  const dataSource = await new DataSource(dataSourceOptions({ url: server.url, poolSize: 1 })).initialize();
  try {
    const result = await new SermiLogVerifier(dataSource).verify();
    console.log(JSON.stringify(result));
    if (!result.valid) {
      const { sealSeq, problem, recordId } = result.firstBroken!;
      console.error(`SERMI access log broken at seal ${sealSeq}${recordId ? `, record ${recordId}` : ''}: ${problem}`);
      return 1;
    }
    console.error(
      `SERMI access log intact: ${result.checkedRecords} records in ${result.checkedSeals} seals, ${result.unsealedRecords} not sealed yet`,
    );
    return 0;
  } finally {
    await dataSource.destroy();
    await server.stop();
  }
});
