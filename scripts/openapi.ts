import { readFile, writeFile } from 'node:fs/promises';
import { generateOpenApiDocument, serializeOpenApi } from '../src/app/openapi-document.js';
import { runScript } from './cli-support.js';

export const OPENAPI_FILE = 'openapi.json';

/** `write` refreshes the committed openapi.json; `check` fails when it is stale. */
await runScript(async () => {
  const mode = process.argv[2];
  const generated = serializeOpenApi(await generateOpenApiDocument());
  if (mode === 'write') {
    await writeFile(OPENAPI_FILE, generated);
    console.error(`wrote ${OPENAPI_FILE}`);
    return 0;
  }
  const committed = await readFile(OPENAPI_FILE, 'utf8').catch(() => '');
  if (committed !== generated) {
    console.error(`${OPENAPI_FILE} is stale: run \`npm run openapi\` and commit the result`);
    return 1;
  }
  console.error(`${OPENAPI_FILE} is up to date`);
  return 0;
});
