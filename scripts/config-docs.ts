import { readFile, writeFile } from 'node:fs/promises';
import { CONFIGURATION_FILE, configurationReference } from './config-reference.js';
import { runScript } from './cli-support.js';

/** `write` regenerates docs/configuration.md from the settings classes; `check` fails when it is stale. */
await runScript(async () => {
  const generated = await configurationReference();
  if (process.argv[2] === 'write') {
    await writeFile(CONFIGURATION_FILE, generated);
    console.error(`wrote ${CONFIGURATION_FILE}`);
    return 0;
  }
  const committed = await readFile(CONFIGURATION_FILE, 'utf8').catch(() => '');
  if (committed !== generated) {
    console.error(`${CONFIGURATION_FILE} is stale: run \`npm run docs:config\` and commit the result`);
    return 1;
  }
  console.error(`${CONFIGURATION_FILE} is up to date`);
  return 0;
});
