import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditService } from '../../src/audit/audit.service.js';
import { applyMigrations } from '../../src/app/migrations.js';
import { runTypeScript } from '../support/spawn-process.js';
import { openTestDataSource } from '../support/test-data-source.js';
import { adminQuery, databaseUrl, type TestDatabase } from '../support/test-database.js';

describe('npm run audit:verify', () => {
  let database: TestDatabase;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const opened = await openTestDataSource(2);
    ({ database, close } = opened);
    const audit = new AuditService(opened.dataSource);
    for (let i = 0; i < 3; i += 1)
      await audit.record({ type: 'test.event', actor: { type: 'system' }, requestId: null, details: { i } });
  });
  afterAll(async () => close());

  it('seals, exits 0 with the chain head when the chain is intact, and 1 naming the first broken event after tampering', async () => {
    const intact = runTypeScript('scripts/verify-audit-chain.ts', { DATABASE_URL: database.url });
    expect(await intact.exited).toBe(0);
    expect(JSON.parse(intact.stdout())).toMatchObject({
      valid: true,
      checkedEvents: 3,
      unsealedEvents: 0,
      head: { sealSeq: '1' },
    });
    expect(intact.stderr()).toContain('audit chain intact: 3 events in 1 seals, 0 not sealed yet');

    await adminQuery(
      `SET session_replication_role = replica; UPDATE audit_events SET details = '{"i": 7}' WHERE seq = 2`,
      [],
      database.name,
    );
    const broken = runTypeScript('scripts/verify-audit-chain.ts', { DATABASE_URL: database.url });
    expect(await broken.exited).toBe(1);
    expect(broken.stderr()).toMatch(/audit chain broken at event 2, seal 1, id [0-9a-f-]{36}: record_changed/);
  });
});

describe('the audit chain in a database that is not UTF8', () => {
  const name = `rmi_test_latin1_${randomBytes(6).toString('hex')}`;
  const url = () => databaseUrl(name);

  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE ${name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
    await applyMigrations(url());
  });
  afterAll(async () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

  it('verifies events with non-ASCII text: lengths are counted in UTF-8 bytes on both sides', async () => {
    await adminQuery(
      `INSERT INTO audit_events (type, actor_type, details) VALUES ('test.event', 'system', $1)`,
      [JSON.stringify({ garage: 'Autobedrijf Müller & Zoën' })],
      name,
    );
    const verify = runTypeScript('scripts/verify-audit-chain.ts', { DATABASE_URL: url() });
    expect(await verify.exited).toBe(0);
    expect(JSON.parse(verify.stdout())).toMatchObject({ valid: true, checkedEvents: 1 });
  });
});
