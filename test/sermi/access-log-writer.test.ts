import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Metrics } from '../../src/operations/metrics.js';
import { signBatch, WRITER_PATH } from '../../src/sermi/access-log/access-log-writer.js';
import type { AccessDecisionRecord } from '../../src/sermi/access-log/sermi-access-log.repository.js';
import { createAccount, signIn } from '../support/factories.js';
import { freePort } from '../support/free-port.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const SECRET = 'writer-secret-for-the-tests-0123456789';
const VIN = 'WVWZZZ1JZXW000042';

/** Three instances on one database: the writer (named in its own settings too), one sending to it, one that cannot. */
describe('one instance writes the SERMI access log records of all (SERMI_LOG_WRITER_*)', () => {
  let database: TestDatabase;
  let writer: TestApp;
  let sender: TestApp;
  let stranded: TestApp;
  let writerUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const port = await freePort();
    writerUrl = `http://127.0.0.1:${port}`;
    const shared = { SERMI_LOG_WRITER_URL: writerUrl, SERMI_LOG_WRITER_SECRET: SECRET };
    writer = await startTestApp({ ...shared, SERMI_LOG_WRITER_PORT: String(port) }, { database });
    sender = await startTestApp(shared, { database });
    stranded = await startTestApp(
      { ...shared, SERMI_LOG_WRITER_URL: `http://127.0.0.1:${await freePort()}` },
      { database },
    );
    await writer.dataSource.query(
      `INSERT INTO rmi_items (code, title, security_related) VALUES
         ('IMMO_KEY_PROGRAMMING', 'Key programming', true), ('SERVICE_SCHEDULE', 'Service schedule', false)`,
    );
  });

  afterAll(async () => {
    await Promise.all([writer, sender, stranded].map((app) => app?.close()));
    await database?.drop();
  });

  const counts = (app: TestApp) => ({ ...app.app.get(Metrics).accessLogWriterRecords });

  async function decide(app: TestApp, item = 'IMMO_KEY_PROGRAMMING') {
    const user = await signIn(app, await createAccount(app.dataSource));
    const response = await request(app.http)
      .post('/api/sermi/access')
      .set('Cookie', user.cookie)
      .set(user.writeHeaders)
      .send({ vin: VIN, item });
    expect(response.status).toBe(200);
    return response.body as { accessId: string; decision: string; reason: string; decidedAt: string };
  }

  async function logged(id: string) {
    const rows = await writer.dataSource.query<{ decision: string; reason: string; recorded_at: Date }[]>(
      'SELECT decision, reason, recorded_at FROM sermi_access_log WHERE id = $1',
      [id],
    );
    return rows[0];
  }

  function post(body: string, signature?: string, path = WRITER_PATH) {
    return fetch(`${writerUrl}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(signature ? { 'X-RMI-Signature': signature } : {}) },
      body,
    });
  }

  function record(fields: Partial<AccessDecisionRecord> = {}): AccessDecisionRecord {
    return {
      id: randomUUID(),
      itemCode: 'SERVICE_SCHEDULE',
      loginMethod: null,
      accountId: randomUUID(),
      sessionId: randomUUID(),
      actorType: null,
      sub: null,
      cabuid: null,
      iouid: null,
      ioeuid: null,
      rssuid: null,
      rsseuid: null,
      vin: VIN,
      securityDecision: 'denied',
      securityReason: 'sermi_login_required',
      clientIp: null,
      userAgent: null,
      requestId: null,
      chainBound: false,
      boundVin: null,
      ...fields,
    };
  }

  it('writes the records of decisions made on another instance, which answers with what was logged', async () => {
    const [writerBefore, senderBefore] = [counts(writer), counts(sender)];
    const decisions = await Promise.all(
      ['IMMO_KEY_PROGRAMMING', 'SERVICE_SCHEDULE', 'IMMO_KEY_PROGRAMMING'].map((item) => decide(sender, item)),
    );
    for (const decision of decisions) {
      const row = await logged(decision.accessId);
      expect(row).toMatchObject({ decision: decision.decision, reason: decision.reason });
      expect(row.recorded_at.toISOString()).toBe(decision.decidedAt);
    }
    expect(decisions.map((decision) => decision.reason)).toEqual([
      'sermi_login_required',
      'not_security_related',
      'sermi_login_required',
    ]);
    expect(counts(sender)).toEqual({ ...senderBefore, sent: senderBefore.sent + 3 });
    expect(counts(writer).received).toBe(writerBefore.received + 3);
    expect(await writer.app.get(Metrics).registry.metrics()).toMatch(
      /rmi_sermi_log_writer_records_total\{outcome="received"\} [1-9]/,
    );
  });

  it('lets the writer, named in its own SERMI_LOG_WRITER_URL, write its records without sending them', async () => {
    // The first batch may still go to itself over its listener; from its answer on, the writer knows itself.
    await decide(writer);
    const before = counts(writer);
    const decisions = [await decide(writer), await decide(writer)];
    for (const decision of decisions) expect(await logged(decision.accessId)).toBeDefined();
    expect(counts(writer)).toEqual(before);
    expect(writer.logs.text()).toContain('this instance is the SERMI access log writer');
  });

  it('has an instance that cannot reach the writer write its own records, and say so once', async () => {
    const before = counts(stranded);
    const decisions = [await decide(stranded), await decide(stranded)];
    for (const decision of decisions) expect(await logged(decision.accessId)).toBeDefined();
    expect(counts(stranded)).toEqual({ ...before, written_here: before.written_here + 2 });
    const warnings = stranded.logs.lines.filter((line) => String(line.msg).includes('writer not reachable'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', writer: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
  });

  it('writes the records itself that the writer answers it could not write', async () => {
    // A writer whose statements all fail: it answers every record as failed.
    const failing = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const ids = (JSON.parse(body) as AccessDecisionRecord[]).map((sent) => sent.id);
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ rows: [], failed: ids }));
      });
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    const app = await startTestApp(
      {
        SERMI_LOG_WRITER_URL: `http://127.0.0.1:${(failing.address() as AddressInfo).port}`,
        SERMI_LOG_WRITER_SECRET: SECRET,
      },
      { database },
    );
    try {
      const decision = await decide(app);
      expect(await logged(decision.accessId)).toMatchObject({ decision: 'denied' });
      expect(counts(app)).toEqual({ sent: 0, received: 0, written_here: 1 });
    } finally {
      await app.close();
      failing.close();
    }
  });

  it('writes nothing it was sent unless the batch is signed with the shared secret', async () => {
    const batch = JSON.stringify([record()]);
    const id = (JSON.parse(batch) as AccessDecisionRecord[])[0].id;
    expect((await post(batch)).status).toBe(401);
    expect((await post(batch, signBatch(Buffer.from('another-secret-of-enough-length-0123'), batch))).status).toBe(401);
    expect((await post(batch, `${signBatch(Buffer.from(SECRET), batch)}x`)).status).toBe(401);
    expect(await logged(id)).toBeUndefined();
    const signed = await post(batch, signBatch(Buffer.from(SECRET), batch));
    expect(signed.status).toBe(200);
    expect(await logged(id)).toMatchObject({ decision: 'granted', reason: 'not_security_related' });
  });

  it('refuses what is not a batch of records, and answers only its one path', async () => {
    const sign = (body: string) => signBatch(Buffer.from(SECRET), body);
    for (const body of ['not json', '{"id":"x"}', JSON.stringify([{ ...record(), chainBound: 'yes' }])]) {
      const response = await post(body, sign(body));
      expect([response.status, await response.text()]).toEqual([400, expect.stringMatching(/not JSON|not a batch/)]);
    }
    expect((await post('[]', sign('[]'), '/other')).status).toBe(404);
    expect((await fetch(`${writerUrl}${WRITER_PATH}`)).status).toBe(405);
  });

  it('answers which records it could not write, and writes the others of the batch', async () => {
    const good = record();
    const bad = record({ id: 'not-a-uuid' });
    const unknownItem = record({ itemCode: 'NO_SUCH_ITEM' });
    const body = JSON.stringify([good, bad, unknownItem]);
    const response = await post(body, signBatch(Buffer.from(SECRET), body));
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { rows: { id: string }[]; failed: string[] };
    expect(answer.rows.map((row) => row.id)).toEqual([good.id]);
    expect(answer.failed).toEqual(['not-a-uuid']);
    expect(await logged(good.id)).toBeDefined();
  });
});
