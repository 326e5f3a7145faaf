import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditService } from '../../src/audit/audit.service.js';
import { runTypeScript } from '../support/spawn-process.js';
import { openTestDataSource } from '../support/test-data-source.js';
import { adminQuery, type TestDatabase } from '../support/test-database.js';

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

  it('exits 0 with the chain head when the chain is intact, and 1 naming the first broken event after tampering', async () => {
    const intact = runTypeScript('scripts/verify-audit-chain.ts', { DATABASE_URL: database.url });
    expect(await intact.exited).toBe(0);
    expect(JSON.parse(intact.stdout())).toMatchObject({ valid: true, checkedEvents: 3, head: { seq: '3' } });

    await adminQuery(
      `SET session_replication_role = replica; UPDATE audit_events SET details = '{"i": 7}' WHERE seq = 2`,
      [],
      database.name,
    );
    const broken = runTypeScript('scripts/verify-audit-chain.ts', { DATABASE_URL: database.url });
    expect(await broken.exited).toBe(1);
    expect(broken.stderr()).toContain('audit chain broken at event 2: hash_mismatch');
  });
});
