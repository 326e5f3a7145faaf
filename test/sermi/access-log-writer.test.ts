import { randomUUID } from 'node:crypto';
import { Agent, createServer, type IncomingMessage, request as httpRequest, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Metrics } from '../../src/operations/metrics.js';
import { signAnswer, signBatch, WRITER_PATH } from '../../src/sermi/access-log/access-log-writer.js';
import type { AccessDecisionRecord } from '../../src/sermi/access-log/sermi-access-log.repository.js';
import { createAccount, signIn } from '../support/factories.js';
import { freePort } from '../support/free-port.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const SECRET = 'writer-secret-for-the-tests-0123456789';
/**
 * A writer's answer comes in milliseconds, but a loaded machine must not turn a slow one into a test failure: the
 * senders here wait long for it and do not try a failed writer again within a test (both settings' own tests set
 * them short or rely on them being long).
 */
const PATIENT = { SERMI_LOG_WRITER_ANSWER_TIMEOUT_MS: '30000', SERMI_LOG_WRITER_RETRY_MS: '600000' };
const VIN = 'WVWZZZ1JZXW000042';

/** Three instances on one database: the writer (named in its own settings too), one sending to it, one that cannot. */
describe('one instance writes the SERMI access log records of all (SERMI_LOG_WRITER_*)', () => {
  let database: TestDatabase;
  let writer: TestApp;
  let sender: TestApp;
  let stranded: TestApp;
  let writerUrl: string;
  /** The live session the hand-made records of a batch are decided for (the statement checks it). */
  let deciding: { accountId: string; sessionId: string };

  beforeAll(async () => {
    database = await createTestDatabase();
    const port = await freePort();
    writerUrl = `http://127.0.0.1:${port}`;
    const shared = { SERMI_LOG_WRITER_URL: writerUrl, SERMI_LOG_WRITER_SECRET: SECRET, ...PATIENT };
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
    const account = await createAccount(writer.dataSource);
    deciding = { accountId: account.id, sessionId: (await signIn(writer, account)).sessionId };
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

  /** A batch as a sender signs it (`secret`, `sentAt` and `path` changeable to forge one). */
  function post(body: string, options: { secret?: string; sentAt?: number; path?: string; unsigned?: boolean } = {}) {
    const timestamp = String(options.sentAt ?? Date.now());
    const signature = signBatch(Buffer.from(options.secret ?? SECRET), timestamp, body);
    return fetch(`${writerUrl}${options.path ?? WRITER_PATH}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(options.unsigned ? {} : { 'X-RMI-Signature': signature, 'X-RMI-Timestamp': timestamp }),
      },
      body,
    });
  }

  /** A stand-in writer on a port of its own: `answer` handles each batch; an app sending to it on the test database. */
  async function withFakeWriter(
    answer: (req: IncomingMessage, res: ServerResponse, records: AccessDecisionRecord[]) => void,
    use: (app: TestApp) => Promise<void>,
    settings: Record<string, string> = {},
  ) {
    const fake = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => answer(req, res, JSON.parse(Buffer.concat(chunks).toString()) as AccessDecisionRecord[]));
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const app = await startTestApp(
      {
        SERMI_LOG_WRITER_URL: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`,
        SERMI_LOG_WRITER_SECRET: SECRET,
        ...PATIENT,
        ...settings,
      },
      { database },
    );
    try {
      await use(app);
    } finally {
      await app.close();
      fake.closeAllConnections();
      fake.close();
    }
  }

  /** Answers as a writer does, signed with `secret`. */
  function signedAnswer(req: IncomingMessage, res: ServerResponse, answer: unknown, secret = SECRET) {
    const body = JSON.stringify(answer);
    const instance = randomUUID();
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('X-RMI-Instance', instance);
    res.setHeader(
      'X-RMI-Signature',
      signAnswer(Buffer.from(secret), String(req.headers['x-rmi-signature']), instance, body),
    );
    res.end(body);
  }

  const rowFor = (sent: AccessDecisionRecord) => ({
    id: sent.id,
    decision: 'denied',
    reason: 'sermi_login_required',
    recorded_at: Date.now(),
    title: 'Key programming',
    security_related: true,
  });

  function record(fields: Partial<AccessDecisionRecord> = {}): AccessDecisionRecord {
    return {
      id: randomUUID(),
      itemCode: 'SERVICE_SCHEDULE',
      loginMethod: null,
      ...deciding,
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

  it('has the writer check the sessions of the records it is sent: one that ended meanwhile decides nothing', async () => {
    const user = await signIn(sender, await createAccount(sender.dataSource));
    const ask = () =>
      request(sender.http)
        .post('/api/sermi/access')
        .set('Cookie', user.cookie)
        .set(user.writeHeaders)
        .send({ vin: VIN, item: 'SERVICE_SCHEDULE' });
    const first = counts(sender);
    expect((await ask()).status).toBe(200);
    const before = counts(sender);
    expect(before).toEqual({ ...first, sent: first.sent + 1 });
    await writer.dataSource.query(`UPDATE sessions SET revoked_at = now(), revoke_reason = 'test' WHERE id = $1`, [
      user.sessionId,
    ]);

    const refused = await ask();
    expect([refused.status, refused.body.code]).toEqual([401, 'unauthenticated']);
    // The writer's statement had the record and wrote nothing: it answered no row, and the sender wrote none itself.
    expect(counts(sender)).toEqual(before);
    const rows = await writer.dataSource.query(
      `SELECT count(*)::int AS n FROM sermi_access_log WHERE session_id = $1`,
      [user.sessionId],
    );
    expect(rows).toEqual([{ n: 1 }]);
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

  it('takes the rows of a signed answer, and writes itself the records the writer could not', async () => {
    // The stand-in "writes" the first record it is sent (it answers a row but writes nothing) and fails the rest.
    let answered = 0;
    await withFakeWriter(
      (req, res, records) => {
        const [rows, failed] = [records.slice(0, answered === 0 ? 1 : 0), records.slice(answered === 0 ? 1 : 0)];
        answered += rows.length;
        signedAnswer(req, res, { rows: rows.map(rowFor), failed: failed.map((sent) => sent.id) });
      },
      async (app) => {
        const decisions = await Promise.all([decide(app), decide(app)]);
        const loggedHere = await Promise.all(decisions.map((decision) => logged(decision.accessId)));
        // The stand-in wrote nothing: the one record in the table is the one the sender wrote itself.
        expect(loggedHere.filter((row) => row !== undefined)).toHaveLength(1);
        expect(counts(app)).toEqual({ sent: 1, received: 0, written_here: 1 });
      },
    );
  });

  it.each([
    [
      'signed with another secret',
      (req: IncomingMessage, res: ServerResponse, records: AccessDecisionRecord[]) =>
        signedAnswer(req, res, { rows: records.map(rowFor), failed: [] }, 'another-secret-of-enough-length-0123'),
      'the answer is not signed with the shared secret',
    ],
    [
      'not signed',
      (_req: IncomingMessage, res: ServerResponse, records: AccessDecisionRecord[]) =>
        res.end(JSON.stringify({ rows: records.map(rowFor), failed: [] })),
      'the answer is not signed with the shared secret',
    ],
    [
      'with a row that is not one of the batch',
      (req: IncomingMessage, res: ServerResponse, records: AccessDecisionRecord[]) =>
        signedAnswer(req, res, { rows: [{ ...rowFor(records[0]), id: randomUUID() }], failed: [] }),
      'the writer answered something else than rows of the batch',
    ],
    [
      'with a malformed row',
      (req: IncomingMessage, res: ServerResponse) => signedAnswer(req, res, { rows: [null], failed: [] }),
      'the writer answered something else than rows of the batch',
    ],
    [
      // A writer of the protocol before sessions were checked by its statement, during a rolling update.
      'only on the path of an older protocol',
      (req: IncomingMessage, res: ServerResponse, records: AccessDecisionRecord[]) => {
        if (req.url === '/sermi-log/records') signedAnswer(req, res, { rows: records.map(rowFor), failed: [] });
        else res.writeHead(404).end();
      },
      'the writer answered 404',
    ],
    [
      // Signed and of the batch, but longer than any answer the writer gives (1 MiB).
      'at a length no batch needs',
      (req: IncomingMessage, res: ServerResponse, records: AccessDecisionRecord[]) =>
        signedAnswer(req, res, { rows: records.map(rowFor), failed: [], padding: ' '.repeat(1024 * 1024) }),
      'answer longer than 1048576 bytes',
    ],
    [
      'with a 500',
      (_req: IncomingMessage, res: ServerResponse) => {
        res.statusCode = 500;
        res.end('no');
      },
      'the writer answered 500',
    ],
  ])('writes its records itself when the writer answers %s', async (_case, answer, why) => {
    await withFakeWriter(answer, async (app) => {
      const decision = await decide(app);
      expect(await logged(decision.accessId)).toMatchObject({ decision: 'denied', reason: decision.reason });
      expect(counts(app)).toEqual({ sent: 0, received: 0, written_here: 1 });
      const warning = app.logs.lines.find((line) => String(line.msg).includes('writer not reachable'));
      expect(warning).toMatchObject({ level: 'warn', error: expect.stringContaining(why) });
    });
  });

  it('does not try a writer that just failed again for SERMI_LOG_WRITER_RETRY_MS, writing its records itself', async () => {
    let batchesSeen = 0;
    await withFakeWriter(
      (_req, res) => {
        batchesSeen += 1;
        res.statusCode = 500;
        res.end('no');
      },
      async (app) => {
        const decisions = [await decide(app), await decide(app), await decide(app)];
        for (const decision of decisions) expect(await logged(decision.accessId)).toBeDefined();
        expect(batchesSeen).toBe(1);
        expect(counts(app)).toEqual({ sent: 0, received: 0, written_here: 3 });
      },
    );
  });

  it('writes its records itself when the writer does not answer within SERMI_LOG_WRITER_ANSWER_TIMEOUT_MS', async () => {
    // The stand-in answers "written" (writing nothing) only after 10 s: a sender that waited would take its word.
    await withFakeWriter(
      (req, res, records) => {
        const late = setTimeout(() => signedAnswer(req, res, { rows: records.map(rowFor), failed: [] }), 10_000);
        res.on('close', () => clearTimeout(late));
      },
      async (app) => {
        const decision = await decide(app);
        expect(await logged(decision.accessId)).toBeDefined();
        expect(counts(app)).toEqual({ sent: 0, received: 0, written_here: 1 });
      },
      { SERMI_LOG_WRITER_ANSWER_TIMEOUT_MS: '300' },
    );
  });

  it('tries the writer again once SERMI_LOG_WRITER_RETRY_MS have passed', async () => {
    let batchesSeen = 0;
    await withFakeWriter(
      (req, res, records) => {
        batchesSeen += 1;
        if (batchesSeen === 1) res.writeHead(500).end('no');
        else signedAnswer(req, res, { rows: [], failed: records.map((record) => record.id) });
      },
      async (app) => {
        await decide(app);
        await new Promise((resolve) => setTimeout(resolve, 400));
        const decision = await decide(app);
        expect(await logged(decision.accessId)).toBeDefined();
        expect(batchesSeen).toBe(2);
      },
      { SERMI_LOG_WRITER_RETRY_MS: '100' },
    );
  });

  it('answers from the committed record when the writer wrote it but its answer was lost', async () => {
    // Passes the batch on to the real writer, then drops the connection instead of answering.
    await withFakeWriter(
      (req, res, records) => {
        void fetch(`${writerUrl}${WRITER_PATH}`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'X-RMI-Signature': String(req.headers['x-rmi-signature']),
            'X-RMI-Timestamp': String(req.headers['x-rmi-timestamp']),
          },
          body: JSON.stringify(records),
        }).then(() => res.destroy());
      },
      async (app) => {
        const writtenBefore = counts(writer).received;
        const decision = await decide(app);
        const row = await logged(decision.accessId);
        expect(row).toMatchObject({ decision: decision.decision, reason: decision.reason });
        expect(row.recorded_at.toISOString()).toBe(decision.decidedAt);
        expect(counts(writer).received).toBe(writtenBefore + 1);
        expect(counts(app)).toEqual({ sent: 0, received: 0, written_here: 0 });
      },
    );
  });

  it('writes nothing it was sent unless the batch is signed with the shared secret, lately', async () => {
    const batch = JSON.stringify([record()]);
    const id = (JSON.parse(batch) as AccessDecisionRecord[])[0].id;
    expect((await post(batch, { unsigned: true })).status).toBe(401);
    expect((await post(batch, { secret: 'another-secret-of-enough-length-0123' })).status).toBe(401);
    expect((await post(batch, { sentAt: Date.now() - 5 * 60_000 })).status).toBe(401);
    expect((await post(batch, { sentAt: Date.now() + 5 * 60_000 })).status).toBe(401);
    expect(await logged(id)).toBeUndefined();
    const signed = await post(batch);
    expect(signed.status).toBe(200);
    expect(await logged(id)).toMatchObject({ decision: 'granted', reason: 'not_security_related' });
  });

  it('refuses what is not a batch of records, and answers only its one path', async () => {
    const invalid = [
      'not json',
      '{"id":"x"}',
      JSON.stringify([{ ...record(), chainBound: 'yes' }]),
      JSON.stringify([{ ...record(), id: 'not-a-uuid' }]),
      JSON.stringify([{ ...record(), vin: null }]),
      JSON.stringify([{ ...record(), securityDecision: 'maybe' }]),
    ];
    for (const body of invalid) {
      const response = await post(body);
      expect([response.status, await response.text()]).toEqual([400, expect.stringMatching(/not JSON|not a batch/)]);
    }
    const tooLarge = JSON.stringify([{ ...record(), userAgent: 'x'.repeat(1024 * 1024) }]);
    expect((await post(tooLarge)).status).toBe(413);
    expect((await post('[]', { path: '/other' })).status).toBe(404);
    expect((await fetch(`${writerUrl}${WRITER_PATH}`)).status).toBe(405);
  });

  it('answers which records it could not write, and writes the others of the batch', async () => {
    const good = record();
    const refused = record({ clientIp: 'not an address' });
    const unknownItem = record({ itemCode: 'NO_SUCH_ITEM' });
    const response = await post(JSON.stringify([good, refused, unknownItem]));
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { rows: { id: string }[]; failed: string[] };
    expect(answer.rows.map((row) => row.id)).toEqual([good.id]);
    expect(answer.failed).toEqual([refused.id]);
    expect(await logged(good.id)).toBeDefined();
  });
});

describe('the access log writer shutting down', () => {
  it('closes while a sender keeps its connection busy, refusing batches meanwhile', async () => {
    const database = await createTestDatabase();
    const port = await freePort();
    const writer = await startTestApp(
      { SERMI_LOG_WRITER_PORT: String(port), SERMI_LOG_WRITER_SECRET: SECRET },
      { database },
    );
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = () =>
      new Promise<number>((resolve, reject) => {
        const timestamp = String(Date.now());
        const request = httpRequest(
          `http://127.0.0.1:${port}${WRITER_PATH}`,
          {
            method: 'POST',
            agent,
            headers: {
              'Content-Type': 'application/json',
              'X-RMI-Timestamp': timestamp,
              'X-RMI-Signature': signBatch(Buffer.from(SECRET), timestamp, '[]'),
            },
          },
          (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode!));
          },
        );
        request.on('error', reject);
        request.end('[]');
      });
    try {
      expect(await send()).toBe(200);
      // A sender that keeps sending on its kept-alive connection does not hold the shutdown up.
      let sending = true;
      const statuses: (number | string)[] = [];
      const sender = (async () => {
        while (sending) statuses.push(await send().catch((error: NodeJS.ErrnoException) => error.code ?? 'error'));
      })();
      await new Promise((resolve) => setTimeout(resolve, 20));
      await writer.close();
      sending = false;
      await sender;
      // Batches were answered, or refused with 503 once it was closing (or their connection closed): never failed.
      const answered = statuses.filter((status) => typeof status === 'number');
      expect(answered.every((status) => status === 200 || status === 503)).toBe(true);
      // Closed: nothing answers any more, on a kept-alive connection or a new one.
      expect(['ECONNREFUSED', 'ECONNRESET']).toContain(
        await send().catch((error: NodeJS.ErrnoException) => error.code),
      );
    } finally {
      agent.destroy();
      await database.drop();
    }
  });
});
