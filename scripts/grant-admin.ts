import { userInfo } from 'node:os';
import { DataSource } from 'typeorm';
import { grantAdminRole } from '../src/accounts/grant-admin.js';
import { dataSourceOptions } from '../src/app/data-source-options.js';
import { openScriptDatabase, runScript } from './cli-support.js';

/** `npm run admin:grant -- <account id | provider subject>`: appoint an administrator (audited). */
await runScript(async () => {
  const target = process.argv[2];
  if (!target) {
    console.error('usage: npm run admin:grant -- <account id | provider subject>');
    return 2;
  }
  const server = await openScriptDatabase();
  const dataSource = await new DataSource(dataSourceOptions({ url: server.url, poolSize: 1 })).initialize();
  try {
    const result = await grantAdminRole(dataSource, target, userInfo().username);
    if (result.outcome === 'not_found') {
      console.error(`no single account matches ${target}`);
      return 1;
    }
    console.error(
      result.outcome === 'granted'
        ? `account ${result.accountId} is now an administrator`
        : `account ${result.accountId} already is an administrator`,
    );
    return 0;
  } finally {
    await dataSource.destroy();
    await server.stop();
  }
});
