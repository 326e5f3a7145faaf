import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyMigrations } from '../src/app/migrations.js';
import { schemaDiff } from '../src/app/schema-drift.js';
import { openScriptDatabase, runScript } from './cli-support.js';
import { withScratchDatabase } from './scratch-database.js';

async function registerMigration(className: string, fileName: string): Promise<void> {
  const indexFile = join('migrations', 'index.ts');
  let index = await readFile(indexFile, 'utf8');
  const imports = [...index.matchAll(/^import .*$/gm)];
  const afterImports =
    imports.length > 0 ? imports[imports.length - 1].index + imports[imports.length - 1][0].length + 1 : 0;
  index = `${index.slice(0, afterImports)}import { ${className} } from './${fileName}.js';\n${index.slice(afterImports)}`;
  index = index.replace(
    /export const MIGRATIONS = \[([^\]]*)\];/,
    (_, list: string) => `export const MIGRATIONS = [${list.trim().replace(/,$/, '')}, ${className}];`,
  );
  await writeFile(indexFile, index);
}

/** `npm run migration:generate -- <Name>`: writes migrations/<timestamp>-<Name>.ts from the entity changes. */
await runScript(async () => {
  const name = process.argv[2];
  if (!name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) {
    console.error('usage: npm run migration:generate -- <PascalCaseName>');
    return 2;
  }
  const server = await openScriptDatabase();
  try {
    const diff = await withScratchDatabase(server.url, async (url) => {
      await applyMigrations(url);
      return schemaDiff(url);
    });
    if (diff.up.length === 0) {
      console.error('entities and migrations agree: nothing to generate');
      return 0;
    }
    const timestamp = Date.now();
    const file = join('migrations', `${timestamp}-${name}.ts`);
    const lines = (queries: string[]) =>
      queries
        .map((query) => `    await queryRunner.query(\`${query.replace(/[\\`]|\$\{/g, (m) => `\\${m}`)}\`);`)
        .join('\n');
    await writeFile(
      file,
      `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${name}${timestamp} implements MigrationInterface {
  name = '${name}${timestamp}';

  async up(queryRunner: QueryRunner): Promise<void> {
${lines(diff.up)}
  }

  async down(queryRunner: QueryRunner): Promise<void> {
${lines(diff.down)}
  }
}
`,
    );
    await registerMigration(`${name}${timestamp}`, `${timestamp}-${name}`);
    console.error(`wrote ${file} and listed it in migrations/index.ts`);
    return 0;
  } finally {
    await server.stop();
  }
});
