import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import request from 'supertest';
import { recordDigest, recordsBetween } from '../../src/sermi/access-log/log-chain.js';
import { SermiLogSealer } from '../../src/sermi/access-log/sermi-log-sealer.js';
import { SermiLogVerifier } from '../../src/sermi/access-log/sermi-log-verifier.js';
import { auditEvents, createAccount, createAdmin, signIn, type SignedIn } from '../support/factories.js';
import { runTypeScript } from '../support/spawn-process.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const VIN = 'WVWZZZ1JZXW000001';

/** Writes `count` log records directly, as one transaction (what a burst of decisions looks like to the sealer). */
async function writeRecords(t: TestApp, count: number, reason = 'sermi_login_required'): Promise<void> {
  await t.dataSource.query(
    `INSERT INTO sermi_access_log (kind, vin, item_code, item_security_related, decision, reason)
     SELECT 'access', $1, 'IMMO', true, 'denied', $2 FROM generate_series(1, $3)`,
    [VIN, reason, count],
  );
}

const count = async (t: TestApp, sql: string) => Number((await t.dataSource.query(sql))[0].count);

/**
 * Seals until nothing is left unsealed. One sealAll() may stop short: the horizon is the oldest transaction
 * running anywhere on the server, and parallel test files keep other databases of the same server busy.
 */
async function sealEverything(t: TestApp): Promise<number> {
  const sealer = t.app.get(SermiLogSealer);
  const deadline = Date.now() + 30_000;
  let sealed = 0;
  for (;;) {
    sealed += await sealer.sealAll();
    const unsealed = await count(
      t,
      `SELECT count(*) FROM sermi_access_log WHERE txid >= coalesce((SELECT max(to_txid) FROM sermi_log_seals),
                                                                     (SELECT max(to_txid) FROM sermi_log_anchors), 0)`,
    );
    if (unsealed === 0 || Date.now() > deadline) return sealed;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** As a superuser with triggers off: what an attacker with database access could do. */
async function asSuperuser(t: TestApp, sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: t.database.url });
  await client.connect();
  try {
    await client.query(`SET session_replication_role = replica`);
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

describe('SERMI access log hash chain', () => {
  let t: TestApp;
  let sealer: SermiLogSealer;
  let verifier: SermiLogVerifier;
  let sessions: SignedIn[];

  beforeAll(async () => {
    t = await startTestApp();
    sealer = t.app.get(SermiLogSealer);
    verifier = t.app.get(SermiLogVerifier);
    await t.dataSource.query(
      `INSERT INTO rmi_items (code, title, security_related) VALUES ('IMMO', 'Immobiliser', true), ('OIL', 'Oil', false)`,
    );
    sessions = await Promise.all(Array.from({ length: 5 }, async () => signIn(t, await createAccount(t.dataSource))));
  });
  afterAll(async () => t.close());

  it('loses no record when decisions are made concurrently while the sealer runs, and the chain verifies', async () => {
    let sealing = true;
    const sealerLoop = (async () => {
      while (sealing) await sealer.sealAll();
    })();
    const decisions = await Promise.all(
      Array.from({ length: 150 }, async (_, i) => {
        const session = sessions[i % sessions.length];
        const response = await request(t.http)
          .post('/api/sermi/access')
          .set('Cookie', session.cookie)
          .set(session.writeHeaders)
          .send({ vin: VIN, item: i % 2 === 0 ? 'IMMO' : 'OIL' });
        expect(response.status).toBe(200);
        return response.body.accessId as string;
      }),
    );
    sealing = false;
    await sealerLoop;
    await sealEverything(t);

    const sealedIds: Array<{ id: string }> = await t.dataSource.query(
      `SELECT unnest(record_ids)::text AS id FROM sermi_log_seals`,
    );
    const sealed = new Set(sealedIds.map((row) => row.id));
    expect(sealed.size).toBe(sealedIds.length);
    for (const id of decisions) expect(sealed.has(id)).toBe(true);
    const total = await count(t, `SELECT count(*) FROM sermi_access_log`);
    expect(sealed.size).toBe(total);

    const verification = await verifier.verify();
    expect(verification).toMatchObject({ valid: true, checkedRecords: total, unsealedRecords: 0, firstBroken: null });
  });

  it('seals a transaction that wrote more records than a seal usually holds as one whole', async () => {
    await writeRecords(t, 6000);
    expect(await sealEverything(t)).toBe(6000);
    const [largest] = await t.dataSource.query(`SELECT max(record_count) AS n FROM sermi_log_seals`);
    expect(largest.n).toBe(6000);
    expect((await verifier.verify()).valid).toBe(true);
  });

  it('seals everything it can in one call, also when seals are cut at transaction boundaries', async () => {
    for (let i = 0; i < 3; i += 1) await writeRecords(t, 3000);
    const [{ last }] = await t.dataSource.query(`SELECT max(txid)::text AS last FROM sermi_access_log`);
    // Other test files share the server: wait until no transaction older than these records is running anywhere.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [{ horizon }] = await t.dataSource.query(`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon`);
      if (BigInt(horizon) > BigInt(last) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const sealsBefore = await count(t, `SELECT count(*) FROM sermi_log_seals`);
    expect(await sealer.sealAll()).toBeGreaterThanOrEqual(9000);
    expect(await count(t, `SELECT count(*) FROM sermi_access_log WHERE txid <= ${BigInt(last)}`)).toBe(
      await count(t, `SELECT coalesce(sum(record_count), 0) AS count FROM sermi_log_seals`),
    );
    expect((await count(t, `SELECT count(*) FROM sermi_log_seals`)) - sealsBefore).toBeGreaterThanOrEqual(3);
    expect((await verifier.verify()).valid).toBe(true);
  });

  it('digests NULLs, separators and non-ASCII text in the database exactly as the verifier does in the app', async () => {
    const [record] = await t.dataSource.query(
      `INSERT INTO sermi_access_log (kind, login_method, actor_type, sub, cabuid, iouid, ioeuid, vin, item_code,
                                     item_security_related, decision, reason, client_ip, user_agent, request_id)
       VALUES ('access', 'web', 'IOE', 'süb|3:x', 'TÜV-ÖSTERREICH', 'AT/ÖSTERREICH/U12345678', '-', $1, 'IMMO', true,
               'granted', 'sermi_session_valid', '2001:db8::1', 'Mozilla/5.0 (Ünïcödé 🚗) |-|', '')
       RETURNING id::text AS id`,
      [VIN],
    );
    await sealEverything(t);
    const [seal] = await t.dataSource.query(
      `SELECT record_digests, array_position(record_ids, $1::uuid) AS position, from_txid::text, to_txid::text
         FROM sermi_log_seals WHERE $1::uuid = ANY(record_ids)`,
      [record.id],
    );
    const [row] = (await recordsBetween(t.dataSource.manager, seal.from_txid, seal.to_txid, 100_000)).filter(
      (r) => r.id === record.id,
    );
    expect(row).toMatchObject({ sub: 'süb|3:x', account_id: null, rssuid: null, request_id: '' });
    const stored = (seal.record_digests as Buffer).subarray((seal.position - 1) * 32, seal.position * 32);
    expect(stored.toString('hex')).toBe(recordDigest(row).toString('hex'));
    expect((await verifier.verify()).valid).toBe(true);
  });

  it('reads records in transaction order by number, not as text (transaction 1000 comes after 999)', async () => {
    // Far above any real transaction id, so nothing seals them; removed again as the superuser.
    const txids = ['999999999998', '999999999999', '1000000000000', '1000000000001'];
    for (const txid of txids) {
      await asSuperuser(
        t,
        `INSERT INTO sermi_access_log (txid, recorded_at, kind, vin, item_code, item_security_related, decision, reason)
         VALUES ($1, now(), 'access', $2, 'IMMO', true, 'denied', 'sermi_login_required')`,
        [txid, VIN],
      );
    }
    try {
      const rows = await recordsBetween(t.dataSource.manager, txids[0], '1000000000002', 3);
      expect(rows.map((row) => row.txid)).toEqual(txids.slice(0, 3));
      const rest = await recordsBetween(t.dataSource.manager, txids[0], '1000000000002', 3, rows[2]);
      expect(rest.map((row) => row.txid)).toEqual(txids.slice(3));
    } finally {
      await asSuperuser(t, `DELETE FROM sermi_access_log WHERE txid >= $1::bigint`, [txids[0]]);
    }
  });

  it('reports records written since the last seal as unsealed, not as broken', async () => {
    await writeRecords(t, 3);
    const verification = await verifier.verify();
    expect(verification).toMatchObject({ valid: true, unsealedRecords: 3 });
    await sealEverything(t);
    expect((await verifier.verify()).unsealedRecords).toBe(0);
  });

  it('lets admins verify the chain over HTTP, audited, and nobody else', async () => {
    const admin = await createAdmin(t);
    const response = await request(t.http)
      .post('/api/admin/sermi/access-log/verify')
      .set('Cookie', admin.session.cookie)
      .set(admin.session.writeHeaders);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ valid: true, firstBroken: null, anchorSealSeq: null });
    const [event] = await auditEvents(t.dataSource, 'sermi.access_log_verified');
    expect(event).toMatchObject({ actor_account_id: admin.account.id, details: { valid: true } });

    const user = sessions[0];
    const refused = await request(t.http)
      .post('/api/admin/sermi/access-log/verify')
      .set('Cookie', user.cookie)
      .set(user.writeHeaders);
    expect([refused.status, refused.body.code]).toEqual([403, 'forbidden']);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of records, seals and anchors', async () => {
    for (const statement of [
      `UPDATE sermi_access_log SET decision = 'granted'`,
      `DELETE FROM sermi_access_log`,
      `TRUNCATE sermi_access_log`,
      `UPDATE sermi_log_seals SET record_count = 1`,
      `DELETE FROM sermi_log_seals`,
    ]) {
      await expect(t.dataSource.query(statement)).rejects.toThrow(/append-only/);
    }
    // The delete path's switch alone does not open it: deletes happen only inside sermi_log_purge().
    await expect(
      t.dataSource.transaction(async (manager) => {
        await manager.query(`SELECT set_config('rmi.sermi_log_purge', 'on', true)`);
        await manager.query(`UPDATE sermi_access_log SET decision = 'granted'`);
      }),
    ).rejects.toThrow(/append-only/);
  });

  it('stamps the time and transaction itself, whatever the writer sends', async () => {
    const [row] = await t.dataSource.query(
      `INSERT INTO sermi_access_log (txid, recorded_at, kind, vin, item_code, item_security_related, decision, reason)
       VALUES (1, '2001-01-01', 'access', $1, 'IMMO', true, 'denied', 'x') RETURNING txid, recorded_at`,
      [VIN],
    );
    expect(Number(row.txid)).toBeGreaterThan(1);
    expect(new Date(row.recorded_at).getFullYear()).toBeGreaterThan(2020);
    await sealEverything(t);
  });

  describe('tampering (as a superuser with triggers off) is detected', () => {
    const firstSealedRecord = async () =>
      (
        await t.dataSource.query(
          `SELECT record_ids[2]::text AS id, seq FROM sermi_log_seals WHERE record_count > 2 ORDER BY seq LIMIT 1`,
        )
      )[0] as { id: string; seq: string };

    it('names a changed record', async () => {
      const { id, seq } = await firstSealedRecord();
      await asSuperuser(t, `UPDATE sermi_access_log SET reason = reason || '!' WHERE id = $1`, [id]);
      expect((await verifier.verify()).firstBroken).toEqual({ sealSeq: seq, problem: 'record_changed', recordId: id });
      await asSuperuser(t, `UPDATE sermi_access_log SET reason = left(reason, -1) WHERE id = $1`, [id]);
      expect((await verifier.verify()).valid).toBe(true);
    });

    it('names a deleted record', async () => {
      const { id, seq } = await firstSealedRecord();
      await asSuperuser(t, `CREATE TABLE tamper_saved AS SELECT * FROM sermi_access_log WHERE id = $1`, [id]);
      await asSuperuser(t, `DELETE FROM sermi_access_log WHERE id = $1`, [id]);
      expect((await verifier.verify()).firstBroken).toEqual({ sealSeq: seq, problem: 'record_missing', recordId: id });
      await asSuperuser(t, `INSERT INTO sermi_access_log SELECT * FROM tamper_saved`);
      await asSuperuser(t, `DROP TABLE tamper_saved`);
      expect((await verifier.verify()).valid).toBe(true);
    });

    it('names a record slipped into a sealed range', async () => {
      const { seq } = await firstSealedRecord();
      const [range] = await t.dataSource.query(`SELECT from_txid FROM sermi_log_seals WHERE seq = $1`, [seq]);
      const inserted = await asSuperuser(
        t,
        `INSERT INTO sermi_access_log (id, txid, recorded_at, kind, vin, item_code, item_security_related, decision, reason)
         VALUES ('00000000-0000-4000-8000-000000000000', $1, now(), 'access', $2, 'IMMO', true, 'granted', 'forged')
         RETURNING id`,
        [range.from_txid, VIN],
      );
      expect(inserted.rowCount).toBe(1);
      expect((await verifier.verify()).firstBroken).toEqual({
        sealSeq: seq,
        problem: 'record_unexpected',
        recordId: '00000000-0000-4000-8000-000000000000',
      });
      await asSuperuser(t, `DELETE FROM sermi_access_log WHERE id = '00000000-0000-4000-8000-000000000000'`);
      expect((await verifier.verify()).valid).toBe(true);
    });

    it('notices a rewritten seal', async () => {
      const { seq } = await firstSealedRecord();
      await asSuperuser(
        t,
        `UPDATE sermi_log_seals SET last_recorded_at = last_recorded_at + interval '1 second' WHERE seq = $1`,
        [seq],
      );
      expect((await verifier.verify()).firstBroken).toEqual({ sealSeq: seq, problem: 'seal_hash_mismatch' });
      await asSuperuser(
        t,
        `UPDATE sermi_log_seals SET last_recorded_at = last_recorded_at - interval '1 second' WHERE seq = $1`,
        [seq],
      );
      expect((await verifier.verify()).valid).toBe(true);
    });

    it('npm run sermi:verify-log exits 0 when intact and 1 naming the broken record', async () => {
      const intact = runTypeScript('scripts/verify-sermi-log.ts', { DATABASE_URL: t.database.url });
      expect(await intact.exited).toBe(0);
      expect(JSON.parse(intact.stdout())).toMatchObject({ valid: true, unsealedRecords: 0 });

      const { id, seq } = await firstSealedRecord();
      await asSuperuser(t, `UPDATE sermi_access_log SET vin = 'WVWZZZ1JZXW999999' WHERE id = $1`, [id]);
      const broken = runTypeScript('scripts/verify-sermi-log.ts', { DATABASE_URL: t.database.url });
      expect(await broken.exited).toBe(1);
      expect(broken.stderr()).toContain(`SERMI access log broken at seal ${seq}, record ${id}: record_changed`);
      await asSuperuser(t, `UPDATE sermi_access_log SET vin = $2 WHERE id = $1`, [id, VIN]);
    });
  });
});

describe('SERMI access log retention', () => {
  let t: TestApp;
  let sealer: SermiLogSealer;
  let verifier: SermiLogVerifier;

  let floorAtStart: number;
  const setFloor = (days: number) => t.dataSource.query(`UPDATE sermi_log_retention SET minimum_days = $1`, [days]);

  beforeAll(async () => {
    t = await startTestApp({ SERMI_LOG_RETENTION_DAYS: '30' });
    sealer = t.app.get(SermiLogSealer);
    verifier = t.app.get(SermiLogVerifier);
    floorAtStart = await count(t, `SELECT minimum_days AS count FROM sermi_log_retention`);
    // The cut-offs below are minutes old: as the owner, keep nothing back (the app runs as the owner here).
    await setFloor(0);
  });
  afterAll(async () => t.close());

  it('keeps SERMI_LOG_RETENTION_DAYS where the purge reads its floor, and refuses a younger cut-off', async () => {
    expect(floorAtStart).toBe(30);
    await setFloor(30);
    try {
      const younger = new Date(Date.now() - 29 * 24 * 3600 * 1000);
      await expect(sealer.purge(younger)).rejects.toThrow(/keeps records for 30 days/);
      expect(await auditEvents(t.dataSource, 'sermi.access_log_purged')).toEqual([]);
    } finally {
      await setFloor(0);
    }
  });

  it('purges whole sealed batches older than the cut-off, leaves an anchor, and what remains still verifies', async () => {
    await writeRecords(t, 3, 'old');
    await sealEverything(t);
    const [{ now: cutOff }] = await t.dataSource.query(`SELECT clock_timestamp() AS now`);
    await writeRecords(t, 2, 'recent');
    await sealEverything(t);

    expect(await sealer.purge(cutOff)).toEqual({ sealsRemoved: 1, recordsRemoved: 3 });
    const remaining: Array<{ reason: string }> = await t.dataSource.query(`SELECT reason FROM sermi_access_log`);
    expect(remaining.map((row) => row.reason)).toEqual(['recent', 'recent']);
    const [anchor] = await t.dataSource.query(`SELECT seal_seq, records_removed FROM sermi_log_anchors`);
    expect(anchor).toEqual({ seal_seq: '1', records_removed: '3' });
    expect(await verifier.verify()).toMatchObject({ valid: true, anchorSealSeq: '1', checkedRecords: 2 });
    await expect(t.dataSource.query(`DELETE FROM sermi_log_anchors`)).rejects.toThrow(/append-only/);
    const [purged] = await auditEvents(t.dataSource, 'sermi.access_log_purged');
    expect(purged.details).toMatchObject({ sealsRemoved: 1, recordsRemoved: 3, anchorSealSeq: '1' });

    await writeRecords(t, 4, 'later');
    await sealEverything(t);
    expect(await verifier.verify()).toMatchObject({ valid: true, checkedRecords: 6 });
    expect(await sealer.purge(cutOff)).toEqual({ sealsRemoved: 0, recordsRemoved: 0 });
  });

  it('the scheduled purge removes what is older than SERMI_LOG_RETENTION_DAYS', async () => {
    const in31Days = new Date(Date.now() + 31 * 24 * 3600 * 1000);
    const in29Days = new Date(Date.now() + 29 * 24 * 3600 * 1000);
    expect(await sealer.purgeExpired(in29Days)).toEqual({ sealsRemoved: 0, recordsRemoved: 0 });
    expect(await sealer.purgeExpired(in31Days)).toEqual({ sealsRemoved: 2, recordsRemoved: 6 });
    expect(await count(t, `SELECT count(*) FROM sermi_access_log`)).toBe(0);
    expect(await verifier.verify()).toMatchObject({ valid: true, checkedRecords: 0, anchorSealSeq: '3' });
  });
});

describe('scheduled sealing', () => {
  it('seals new records on its own every SERMI_LOG_SEAL_INTERVAL_MS', async () => {
    const t = await startTestApp({ SERMI_LOG_SEAL_INTERVAL_MS: '50' });
    try {
      await writeRecords(t, 2);
      const deadline = Date.now() + 10_000;
      let sealed = 0;
      while (sealed < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        sealed = await count(t, `SELECT coalesce(sum(record_count), 0) AS count FROM sermi_log_seals`);
      }
      expect(sealed).toBe(2);
      expect((await t.app.get(SermiLogVerifier).verify()).valid).toBe(true);
    } finally {
      await t.close();
    }
  });
});
