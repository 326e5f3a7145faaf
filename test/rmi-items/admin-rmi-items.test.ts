import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { AuditService } from '../../src/audit/audit.service.js';
import { auditEvents, createAccount, createAdmin, signIn, type SignedIn } from '../support/factories.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const BASE = '/api/admin/rmi-items';
const HEADER = 'code,title,securityRelated,category,notes';

interface ItemRow {
  code: string;
  title: string;
  security_related: boolean;
  category: string | null;
  notes: string | null;
  updated_at: Date;
}

function expectProblem(res: request.Response, status: number, code: string) {
  expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  expect(res.body).toMatchObject({ status, code, requestId: res.headers['x-request-id'] });
  expect(res.status).toBe(status);
}

describe('admin RMI items API', () => {
  let t: TestApp;
  let admin: SignedIn;
  let adminId: string;

  beforeAll(async () => {
    t = await startTestApp();
    const created = await createAdmin(t, 'Item admin');
    admin = created.session;
    adminId = created.account.id;
  });
  afterAll(async () => t.close());

  const get = (path: string, session: SignedIn = admin) => request(t.http).get(path).set('Cookie', session.cookie);
  const write = (method: 'post' | 'patch', path: string, session: SignedIn = admin) =>
    request(t.http)[method](path).set('Cookie', session.cookie).set(session.writeHeaders);
  const create = (body: object) => write('post', BASE).send(body);
  const patch = (code: string, body: object) => write('patch', `${BASE}/${code}`).send(body);
  const importJson = (body: unknown) =>
    write('post', `${BASE}/import`).set('Content-Type', 'application/json').send(JSON.stringify(body));
  const importCsv = (text: string | Buffer, contentType = 'text/csv') =>
    write('post', `${BASE}/import`).set('Content-Type', contentType).send(text);

  const stored = async (code: string): Promise<ItemRow | undefined> =>
    (await t.dataSource.query(`SELECT * FROM rmi_items WHERE code = $1`, [code]))[0];
  /** Everything a failed request must leave untouched. */
  const snapshot = async () => ({
    items: await t.dataSource.query(`SELECT * FROM rmi_items ORDER BY code`),
    auditEvents: Number((await t.dataSource.query(`SELECT count(*) AS n FROM audit_events`))[0].n),
  });
  const eventsFor = async (type: string, code: string) =>
    (await auditEvents(t.dataSource, type)).filter((e) => e.details.code === code);

  describe('access', () => {
    it('refuses anonymous callers with 401 and non-admins with 403 on every route, writing nothing', async () => {
      const user = await signIn(t, await createAccount(t.dataSource));
      await create({ code: 'ACCESS.1', title: 'Access', securityRelated: false }).expect(201);
      const before = await snapshot();
      const routes: Array<[string, (agent: ReturnType<typeof request>) => request.Test]> = [
        ['list', (r) => r.get(BASE)],
        ['get', (r) => r.get(`${BASE}/ACCESS.1`)],
        ['create', (r) => r.post(BASE).send({ code: 'ACCESS.2', title: 'x', securityRelated: true })],
        ['update', (r) => r.patch(`${BASE}/ACCESS.1`).send({ securityRelated: true })],
        [
          'import',
          (r) => r.post(`${BASE}/import`).send({ items: [{ code: 'ACCESS.3', title: 'x', securityRelated: true }] }),
        ],
        [
          'csv import',
          (r) =>
            r.post(`${BASE}/import`).set('Content-Type', 'text/csv').send('code,title,securityRelated\nACCESS.4,x,1\n'),
        ],
      ];
      for (const [name, call] of routes) {
        const anonymous = await call(request(t.http));
        expect([name, anonymous.status, anonymous.body.code]).toEqual([name, 401, 'unauthenticated']);
        const forbidden = await call(request(t.http)).set('Cookie', user.cookie).set(user.writeHeaders);
        expect([name, forbidden.status, forbidden.body.code]).toEqual([name, 403, 'forbidden']);
      }
      expect(await snapshot()).toEqual(before);
    });

    it('does not read a large import body from a caller without a session', async () => {
      const large = `code,title,securityRelated\n${'BIG.1,x,1\n'.repeat(200_000)}`;
      const csv = await request(t.http).post(`${BASE}/import`).set('Content-Type', 'text/csv').send(large);
      expectProblem(csv, 401, 'unauthenticated');
      const json = await request(t.http)
        .post(`${BASE}/import`)
        .send({
          items: Array.from({ length: 20_000 }, (_, i) => ({ code: `BIG.${i}`, title: 'x', securityRelated: true })),
        });
      expectProblem(json, 413, 'payload_too_large');
    });

    it('reads a large import body only for a live admin session, not for any cookie or a non-admin', async () => {
      // Over the 5 MB import limit: read, it would be refused with 413 before the guard could say 401 or 403.
      const large = `code,title,securityRelated\n${'BIG.1,x,1\n'.repeat(600_000)}`;
      const junk = await request(t.http)
        .post(`${BASE}/import`)
        .set('Cookie', `${t.config.session.cookieName}=junk`)
        .set('Content-Type', 'text/csv')
        .send(large);
      expectProblem(junk, 401, 'unauthenticated');
      const user = await signIn(t, await createAccount(t.dataSource));
      const nonAdmin = await write('post', `${BASE}/import`, user).set('Content-Type', 'text/csv').send(large);
      expectProblem(nonAdmin, 403, 'forbidden');
    });

    it('refuses text with a lone surrogate, naming the field, on create, update and import alike', async () => {
      const before = await snapshot();
      const refused = [
        await create({ code: 'LONE', title: 'a\ud800', securityRelated: false }),
        await patch('IMMO_KEY', { title: 'b\udc00' }),
        await importJson({ items: [{ code: 'LONE.2', title: 'c\ud83d', securityRelated: true }] }),
      ];
      expect(refused.map((r) => [r.status, r.body.code, r.body.errors?.[0]?.rule, r.body.errors?.[0]?.field])).toEqual([
        [400, 'validation_failed', 'wellFormedUnicode', 'title'],
        [400, 'validation_failed', 'wellFormedUnicode', 'title'],
        [400, 'import_invalid', 'wellFormedUnicode', 'title'],
      ]);
      expect(await snapshot()).toEqual(before);
    });

    it('takes the import at its path with a trailing slash too, as the router does', async () => {
      const res = await write('post', `${BASE}/import/`)
        .set('Content-Type', 'text/csv')
        .send(`${HEADER}\nSLASH.1,With a slash,false,,\n`);
      expect([res.status, res.body]).toEqual([200, { created: 1, updated: 0, unchanged: 0, total: 1 }]);
    });

    it('refuses a write without the CSRF token', async () => {
      const res = await request(t.http)
        .post(BASE)
        .set('Cookie', admin.cookie)
        .send({ code: 'CSRF.1', title: 'x', securityRelated: true });
      expectProblem(res, 403, 'csrf_check_failed');
      expect(await stored('CSRF.1')).toBeUndefined();
    });
  });

  describe('create and read', () => {
    it('creates an item with an upper-cased code and audits it with the values set', async () => {
      const res = await create({
        code: 'immo.key-prog',
        title: 'Programme a new key',
        securityRelated: true,
        category: 'Immobiliser',
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        code: 'IMMO.KEY-PROG',
        title: 'Programme a new key',
        securityRelated: true,
        category: 'Immobiliser',
        notes: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(await stored('IMMO.KEY-PROG')).toMatchObject({ security_related: true, category: 'Immobiliser' });
      expect(await eventsFor('rmi_item.created', 'IMMO.KEY-PROG')).toEqual([
        {
          type: 'rmi_item.created',
          actor_account_id: adminId,
          subject_account_id: null,
          details: {
            code: 'IMMO.KEY-PROG',
            after: { title: 'Programme a new key', securityRelated: true, category: 'Immobiliser', notes: null },
          },
          request_id: res.headers['x-request-id'],
        },
      ]);

      const fetched = await get(`${BASE}/immo.key-prog`);
      expect(fetched.status).toBe(200);
      expect(fetched.body).toEqual(res.body);
    });

    it('answers 409 for an existing code in any case and writes nothing', async () => {
      await create({ code: 'DUP.1', title: 'Original', securityRelated: false }).expect(201);
      const before = await snapshot();
      const res = await create({ code: 'dup.1', title: 'Copy', securityRelated: true });
      expectProblem(res, 409, 'rmi_item_exists');
      expect(await snapshot()).toEqual(before);
    });

    it.each([
      ['a code with a space', { code: 'BAD CODE', title: 't', securityRelated: true }, 'code'],
      ['a code with leading whitespace', { code: ' LEAD', title: 't', securityRelated: true }, 'code'],
      ['a code that starts with a dot', { code: '.DOT', title: 't', securityRelated: true }, 'code'],
      ['a non-ASCII code', { code: 'SCHLÜSSEL', title: 't', securityRelated: true }, 'code'],
      ['a title of 301 characters', { code: 'LONG', title: 'x'.repeat(301), securityRelated: true }, 'title'],
      ['a blank title', { code: 'BLANK', title: '  ', securityRelated: true }, 'title'],
      ['a missing classification', { code: 'NOCLASS', title: 't' }, 'securityRelated'],
      ['a string classification', { code: 'STRCLASS', title: 't', securityRelated: 'true' }, 'securityRelated'],
      ['an empty category', { code: 'EMPTYCAT', title: 't', securityRelated: true, category: '' }, 'category'],
      ['an unknown field', { code: 'UNKNOWN', title: 't', securityRelated: true, gated: true }, 'gated'],
    ])('refuses %s with 400 and writes nothing', async (_, body, field) => {
      const before = await snapshot();
      const res = await create(body);
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await snapshot()).toEqual(before);
    });

    it('accepts a title of 300 characters, counted as Postgres counts them', async () => {
      const res = await create({ code: 'EMOJI', title: '🔑'.repeat(300), securityRelated: false });
      expect(res.status).toBe(201);
    });

    it('answers 404 for an unknown code and 400 for an impossible one', async () => {
      expectProblem(await get(`${BASE}/NO.SUCH.ITEM`), 404, 'rmi_item_not_found');
      const bad = await get(`${BASE}/${encodeURIComponent('bad code')}`);
      expectProblem(bad, 400, 'validation_failed');
      expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'code' })]);
    });
  });

  describe('list', () => {
    beforeAll(async () => {
      const items = [
        { code: 'LIST.A', title: 'Brake pads', securityRelated: false, category: 'Brakes' },
        { code: 'LIST.B', title: 'Alarm system reset', securityRelated: true, category: 'Security' },
        { code: 'LIST.C', title: 'Wiper 100%_done', securityRelated: false },
        { code: 'LIST.D', title: 'Key FOB pairing', securityRelated: true, category: 'Security' },
        { code: 'LIST.E', title: 'Engine oil', securityRelated: false, category: 'Brakes' },
      ];
      for (const item of items) await create(item).expect(201);
    });

    const codes = (res: request.Response) => res.body.items.map((item: { code: string }) => item.code);

    it('filters by classification, category and text in code or title, case-insensitively', async () => {
      expect(codes(await get(`${BASE}?q=list.&securityRelated=true`))).toEqual(['LIST.B', 'LIST.D']);
      expect(codes(await get(`${BASE}?q=LIST&securityRelated=false`))).toEqual(['LIST.A', 'LIST.C', 'LIST.E']);
      expect(codes(await get(`${BASE}?category=Brakes`))).toEqual(['LIST.A', 'LIST.E']);
      expect(codes(await get(`${BASE}?q=fob`))).toEqual(['LIST.D']);
      expect(codes(await get(`${BASE}?q=list.c`))).toEqual(['LIST.C']);
      expect(codes(await get(`${BASE}?q=${encodeURIComponent('%_')}`))).toEqual(['LIST.C']);
      expect(codes(await get(`${BASE}?q=${encodeURIComponent('_')}&category=Security`))).toEqual([]);
    });

    it('pages through every match exactly once, in code order', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: request.Response = await get(`${BASE}?q=LIST.&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        seen.push(...codes(res));
        cursor = res.body.nextCursor;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual(['LIST.A', 'LIST.B', 'LIST.C', 'LIST.D', 'LIST.E']);
    });

    it.each([
      ['securityRelated=maybe', 'validation_failed'],
      ['securityRelated=true&securityRelated=false', 'validation_failed'],
      ['limit=0', 'validation_failed'],
      ['limit=201', 'validation_failed'],
      ['colour=red', 'validation_failed'],
      [`cursor=${Buffer.from(JSON.stringify({ code: "' OR 1=1" })).toString('base64url')}`, 'invalid_cursor'],
    ])('refuses %s', async (query, code) => {
      expectProblem(await get(`${BASE}?${query}`), 400, code);
    });
  });

  describe('update', () => {
    it('reclassifies an item and audits before and after', async () => {
      await create({ code: 'UPD.1', title: 'Door module', securityRelated: false, category: 'Body' }).expect(201);
      const res = await patch('upd.1', { securityRelated: true, category: null });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ code: 'UPD.1', title: 'Door module', securityRelated: true, category: null });
      expect(await stored('UPD.1')).toMatchObject({ security_related: true, category: null });
      expect(await eventsFor('rmi_item.updated', 'UPD.1')).toEqual([
        expect.objectContaining({
          actor_account_id: adminId,
          request_id: res.headers['x-request-id'],
          details: {
            code: 'UPD.1',
            changed: ['securityRelated', 'category'],
            before: { securityRelated: false, category: 'Body' },
            after: { securityRelated: true, category: null },
          },
        }),
      ]);
    });

    it('returns the item unchanged and audits nothing when nothing changes', async () => {
      await create({ code: 'UPD.SAME', title: 'Same', securityRelated: true, notes: 'n' }).expect(201);
      const before = await snapshot();
      const res = await patch('UPD.SAME', { title: 'Same', securityRelated: true, notes: 'n' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ code: 'UPD.SAME', title: 'Same', notes: 'n' });
      expect(await snapshot()).toEqual(before);
    });

    it.each([
      ['an empty patch', {}, ''],
      ['a null title', { title: null }, 'title'],
      ['a null classification', { securityRelated: null }, 'securityRelated'],
      ['notes of 2001 characters', { notes: 'n'.repeat(2001) }, 'notes'],
      ['a code change', { code: 'OTHER' }, 'code'],
    ])('refuses %s with 400 and changes nothing', async (_, body, field) => {
      await create({ code: 'UPD.BAD', title: 'Fixed', securityRelated: false }).expect((r) =>
        expect([201, 409]).toContain(r.status),
      );
      const before = await snapshot();
      const res = await patch('UPD.BAD', body);
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await snapshot()).toEqual(before);
    });

    it('answers 404 for an unknown code', async () => {
      expectProblem(await patch('NO.SUCH.ITEM', { securityRelated: true }), 404, 'rmi_item_not_found');
    });
  });

  describe('import', () => {
    it('creates and updates items from JSON, keeping fields the import leaves out, and audits each change', async () => {
      await create({ code: 'JSON.OLD', title: 'Old title', securityRelated: false, notes: 'keep me' }).expect(201);
      await create({ code: 'JSON.SAME', title: 'Same', securityRelated: true }).expect(201);
      const res = await importJson({
        items: [
          { code: 'json.new', title: 'New item', securityRelated: true, category: 'Keys' },
          { code: 'JSON.OLD', title: 'Old title', securityRelated: true },
          { code: 'JSON.SAME', title: 'Same', securityRelated: true },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ created: 1, updated: 1, unchanged: 1, total: 3 });
      expect(await stored('JSON.NEW')).toMatchObject({ title: 'New item', security_related: true, category: 'Keys' });
      expect(await stored('JSON.OLD')).toMatchObject({ security_related: true, notes: 'keep me' });

      const requestId = res.headers['x-request-id'];
      expect(await eventsFor('rmi_item.created', 'JSON.NEW')).toEqual([
        expect.objectContaining({
          actor_account_id: adminId,
          request_id: requestId,
          details: expect.objectContaining({
            source: 'import',
            after: expect.objectContaining({ securityRelated: true }),
          }),
        }),
      ]);
      expect(await eventsFor('rmi_item.updated', 'JSON.OLD')).toEqual([
        expect.objectContaining({
          request_id: requestId,
          details: {
            code: 'JSON.OLD',
            changed: ['securityRelated'],
            before: { securityRelated: false },
            after: { securityRelated: true },
            source: 'import',
          },
        }),
      ]);
      expect(await eventsFor('rmi_item.updated', 'JSON.SAME')).toEqual([]);
      expect((await auditEvents(t.dataSource, 'rmi_items.imported')).at(-1)).toEqual(
        expect.objectContaining({
          actor_account_id: adminId,
          request_id: requestId,
          details: { format: 'json', created: 1, updated: 1, unchanged: 1, total: 3 },
        }),
      );
    });

    it('applies a CSV file with quoted commas, line breaks, quotes and non-ASCII text', async () => {
      const csv =
        `\uFEFF${HEADER}\r\n` +
        `csv.immo,"Schlüssel anlernen, Wegfahrsperre",yes,Immobiliser,"Step 1\r\nStep 2: press ""OK"""\r\n` +
        `CSV.ECU,Калибровка блока управления,0,,\r\n` +
        `CSV.NAV,"ナビ 更新 🔧",No,Infotainment,\r\n`;
      const res = await importCsv(csv);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ created: 3, updated: 0, unchanged: 0, total: 3 });
      expect(await stored('CSV.IMMO')).toMatchObject({
        title: 'Schlüssel anlernen, Wegfahrsperre',
        security_related: true,
        category: 'Immobiliser',
        notes: 'Step 1\r\nStep 2: press "OK"',
      });
      expect(await stored('CSV.ECU')).toMatchObject({
        title: 'Калибровка блока управления',
        security_related: false,
        category: null,
        notes: null,
      });
      expect(await stored('CSV.NAV')).toMatchObject({ title: 'ナビ 更新 🔧', security_related: false });
      expect((await auditEvents(t.dataSource, 'rmi_items.imported')).at(-1)?.details).toMatchObject({ format: 'csv' });

      const again = await importCsv(csv);
      expect(again.body).toEqual({ created: 0, updated: 0, unchanged: 3, total: 3 });
    });

    it('changes nothing when one row among valid ones is invalid, and says which row', async () => {
      await create({ code: 'ATOMIC.EXISTING', title: 'Before', securityRelated: false }).expect(201);
      const before = await snapshot();
      const json = await importJson({
        items: [
          { code: 'ATOMIC.NEW', title: 'Fine', securityRelated: true },
          { code: 'ATOMIC.EXISTING', title: 'After', securityRelated: true },
          { code: 'ATOMIC BAD', title: 'Bad code', securityRelated: true },
        ],
      });
      expectProblem(json, 400, 'import_invalid');
      expect(json.body.errors).toEqual([expect.objectContaining({ row: 3, field: 'code' })]);

      const csv = await importCsv(
        `${HEADER}\nATOMIC.NEW,Fine,true,,\nATOMIC.EXISTING,After,true,,\nATOMIC.THIRD,Third,perhaps,,\n`,
      );
      expectProblem(csv, 400, 'import_invalid');
      expect(csv.body.errors).toEqual([
        { row: 3, line: 4, field: 'securityRelated', rule: 'isBoolean', message: expect.any(String) },
      ]);
      expect(await snapshot()).toEqual(before);
    });

    it.each([
      ['a missing header', 'ATOMIC.X,Title,true\n', 0],
      ['a header without securityRelated', 'code,title\nX,Title\n', 0],
      ['an unterminated quote', `${HEADER}\nX,"Title,true,,\n`, 1],
      ['too many columns', `${HEADER}\nX,Title,true,,,extra\n`, 1],
      ['a duplicate code', `${HEADER}\nDUPE,a,true,,\ndupe,b,true,,\n`, 2],
      ['a missing title', `${HEADER}\nNOTITLE,,true,,\n`, 1],
    ])('refuses a CSV file with %s', async (_, text, row) => {
      const before = await snapshot();
      const res = await importCsv(text);
      expectProblem(res, 400, 'import_invalid');
      expect(res.body.errors.map((e: { row: number }) => e.row)).toContain(row);
      expect(await snapshot()).toEqual(before);
    });

    it('writes only the summary event when the data is already there', async () => {
      const items = [
        { code: 'REPEAT.1', title: 'One', securityRelated: true, category: 'A', notes: 'x' },
        { code: 'REPEAT.2', title: 'Two', securityRelated: false },
      ];
      expect((await importJson({ items })).body).toEqual({ created: 2, updated: 0, unchanged: 0, total: 2 });
      const itemEvents = async () =>
        (await auditEvents(t.dataSource)).filter((e) => String(e.details.code ?? '').startsWith('REPEAT.')).length;
      const before = { items: await snapshot(), events: await itemEvents() };
      const res = await importJson({ items });
      expect(res.body).toEqual({ created: 0, updated: 0, unchanged: 2, total: 2 });
      expect(await itemEvents()).toBe(before.events);
      const after = await snapshot();
      expect(after.items).toEqual(before.items.items);
      expect(after.auditEvents).toBe(before.items.auditEvents + 1);
    });

    it('takes a file far above the global body limit, and keeps the audit chain intact', async () => {
      const lines = Array.from(
        { length: 3000 },
        (_, i) => `BULK.${String(i).padStart(5, '0')},Bulk item ${i} ${'·'.repeat(60)},${i % 3 === 0},Bulk,`,
      );
      const csv = `${HEADER}\n${lines.join('\n')}\n`;
      expect(Buffer.byteLength(csv)).toBeGreaterThan(t.config.http.bodyLimitBytes);
      const res = await importCsv(csv);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ created: 3000, updated: 0, unchanged: 0, total: 3000 });
      const [{ n }] = await t.dataSource.query(
        `SELECT count(*)::int AS n FROM rmi_items WHERE code LIKE 'BULK.%' AND security_related`,
      );
      expect(n).toBe(1000);
      expect((await t.app.get(AuditService).verifyChain()).valid).toBe(true);
    });

    it('refuses more than 10,000 rows', async () => {
      const before = await snapshot();
      const items = Array.from({ length: 10_001 }, (_, i) => ({
        code: `MANY.${i}`,
        title: 't',
        securityRelated: false,
      }));
      const res = await importJson({ items });
      expectProblem(res, 400, 'import_invalid');
      expect(res.body.errors).toEqual([expect.objectContaining({ row: 10_001, rule: 'maxRows' })]);
      expect(await snapshot()).toEqual(before);
    });

    it('answers 413 for a body over 5 MB, JSON or CSV', async () => {
      const before = await snapshot();
      const big = `${HEADER}\n${'X,'.padEnd(5 * 1024 * 1024, 'y')},true,,\n`;
      expectProblem(await importCsv(big), 413, 'payload_too_large');
      expectProblem(await importJson({ items: [], pad: 'y'.repeat(5 * 1024 * 1024) }), 413, 'payload_too_large');
      expect(await snapshot()).toEqual(before);
    });

    it('keeps the global limits on every other route, and CSV off them', async () => {
      const big = await create({ code: 'BIG', title: 't', securityRelated: true, notes: 'n'.repeat(200 * 1024) });
      expectProblem(big, 413, 'payload_too_large');
      const csvElsewhere = await write('post', BASE).set('Content-Type', 'text/csv').send('code,title\nA,b\n');
      expectProblem(csvElsewhere, 415, 'unsupported_media_type');
      const csvPatch = await write('patch', `${BASE}/import`).set('Content-Type', 'text/csv').send('x');
      expectProblem(csvPatch, 415, 'unsupported_media_type');
    });

    it('refuses CSV that is declared or encoded as anything but UTF-8', async () => {
      const latin1 = Buffer.from(`${HEADER}\nLATIN,Schl\xfcssel,true,,\n`, 'latin1');
      expectProblem(await importCsv(latin1, 'text/csv; charset=iso-8859-1'), 415, 'unsupported_media_type');
      const undeclared = await importCsv(latin1);
      expectProblem(undeclared, 400, 'import_invalid');
      expect(undeclared.body.errors).toEqual([expect.objectContaining({ row: 0, rule: 'utf8' })]);
      expect(await stored('LATIN')).toBeUndefined();
    });

    it('refuses a JSON body of the wrong shape as a whole', async () => {
      for (const body of [
        [{ code: 'A', title: 'a', securityRelated: true }],
        { items: 'A' },
        { items: [], extra: 1 },
      ]) {
        const res = await importJson(body);
        expectProblem(res, 400, 'import_invalid');
        expect(res.body.errors[0].row).toBe(0);
      }
    });
  });
});
