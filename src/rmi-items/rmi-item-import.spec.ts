import { describe, expect, it } from '@jest/globals';
import { AppException } from '../common/problem/app-exception.js';
import {
  assertImportValid,
  MAX_IMPORT_ROWS,
  MAX_REPORTED_ERRORS,
  readCsvImport,
  readJsonImport,
} from './rmi-item-import.js';

const csv = (text: string) => readCsvImport(Buffer.from(text, 'utf8'));
const item = (fields: Record<string, unknown> = {}) => ({
  code: 'ECU.FLASH',
  title: 'Flash the engine ECU',
  securityRelated: false,
  ...fields,
});
const errorsOf = (reading: { errors: Array<{ row: number; field: string; rule: string }> }) =>
  reading.errors.map(({ row, field, rule }) => [row, field, rule]);

describe('readJsonImport', () => {
  it('upper-cases codes and keeps only the optional fields that were sent', () => {
    const reading = readJsonImport({
      items: [item({ code: 'immo.key-1', category: 'Immobiliser', notes: null }), item({ code: 'b_2' })],
    });
    expect(reading.errors).toEqual([]);
    expect(reading.rows).toEqual([
      {
        code: 'IMMO.KEY-1',
        title: 'Flash the engine ECU',
        securityRelated: false,
        category: 'Immobiliser',
        notes: null,
      },
      { code: 'B_2', title: 'Flash the engine ECU', securityRelated: false },
    ]);
  });

  it.each([
    ['a code with a space', item({ code: 'ECU FLASH' }), 'code', 'matches'],
    ['a code with surrounding whitespace', item({ code: ' ECU' }), 'code', 'matches'],
    ['a code that only upper-cases to ASCII outside ASCII', item({ code: 'ıMMO' }), 'code', 'matches'],
    ['a code of 65 characters', item({ code: 'A'.repeat(65) }), 'code', 'matches'],
    ['a missing code', item({ code: undefined }), 'code', 'isDefined'],
    ['a missing title', item({ title: undefined }), 'title', 'isDefined'],
    ['a blank title', item({ title: '   ' }), 'title', 'isNotBlank'],
    ['a title of 301 characters', item({ title: 'x'.repeat(301) }), 'title', 'maxLength'],
    ['a string boolean', item({ securityRelated: 'yes' }), 'securityRelated', 'isBoolean'],
    ['an empty category', item({ category: '' }), 'category', 'length'],
    ['notes of 2001 characters', item({ notes: 'n'.repeat(2001) }), 'notes', 'length'],
    ['a NUL character', item({ title: 'a\u0000b' }), 'title', 'noNulCharacter'],
    ['an unknown field', item({ colour: 'red' }), 'colour', 'whitelistValidation'],
    ['an item that is not an object', 'ECU.FLASH', '', 'isObject'],
  ])('refuses %s', (_, value, field, rule) => {
    expect(errorsOf(readJsonImport({ items: [item({ code: 'OK' }), value] }))).toEqual([[2, field, rule]]);
  });

  it('counts characters as Postgres does, so 300 emoji are a valid title', () => {
    expect(readJsonImport({ items: [item({ title: '🔑'.repeat(300) })] }).errors).toEqual([]);
  });

  it('refuses a code that appears twice, however it is spelt', () => {
    const reading = readJsonImport({ items: [item({ code: 'dup' }), item({ code: 'OTHER' }), item({ code: 'DUP' })] });
    expect(reading.errors).toEqual([
      { row: 3, field: 'code', rule: 'unique', message: 'code DUP already appears in row 1' },
    ]);
  });

  it.each([
    ['a body without items', {}],
    ['an array body', [item()]],
    ['items that are not an array', { items: item() }],
    ['an extra top-level field', { items: [], dryRun: true }],
  ])('refuses %s as a whole (row 0)', (_, body) => {
    const reading = readJsonImport(body);
    expect(reading.errors).toHaveLength(1);
    expect(reading.errors[0].row).toBe(0);
  });

  it(`refuses more than ${MAX_IMPORT_ROWS} items without checking them one by one`, () => {
    const items = Array.from({ length: MAX_IMPORT_ROWS + 1 }, (_, i) => item({ code: `C${i}` }));
    expect(errorsOf(readJsonImport({ items }))).toEqual([[MAX_IMPORT_ROWS + 1, '', 'maxRows']]);
    expect(readJsonImport({ items: items.slice(1) }).errors).toEqual([]);
  });
});

describe('readCsvImport', () => {
  it('reads quoted fields, yes/no/1/0 booleans and empty cells as cleared optional fields', () => {
    const reading = csv(
      '\uFEFFcode,title,securityRelated,category,notes\r\n' +
        'immo.key,"Schlüssel anlernen, ""Wegfahrsperre""",YES,Immobiliser,"line 1\nline 2"\r\n' +
        'ECU.READ,Read the ECU,0,,\r\n',
    );
    expect(reading.errors).toEqual([]);
    expect(reading.rows).toEqual([
      {
        code: 'IMMO.KEY',
        title: 'Schlüssel anlernen, "Wegfahrsperre"',
        securityRelated: true,
        category: 'Immobiliser',
        notes: 'line 1\nline 2',
      },
      { code: 'ECU.READ', title: 'Read the ECU', securityRelated: false, category: null, notes: null },
    ]);
  });

  it('takes the columns in any order and leaves absent optional columns untouched', () => {
    const reading = csv('securityRelated,Title,CODE\ntrue,Key,K1\n');
    expect(reading.rows).toEqual([{ code: 'K1', title: 'Key', securityRelated: true }]);
  });

  it('skips blank lines but keeps counting them, so row numbers match a spreadsheet', () => {
    const reading = csv('code,title,securityRelated\nA,a,true\n\nB,b,maybe\n');
    expect(errorsOf(reading)).toEqual([[3, 'securityRelated', 'isBoolean']]);
  });

  it('lists every invalid row with its row and line, in row order', () => {
    const reading = csv(
      'code,title,securityRelated\n' +
        'GOOD,"two\nlines",true\n' +
        'bad code,x,true\n' +
        'C,,false\n' +
        'D,d,true,extra\n' +
        'good,dup,false\n',
    );
    expect(reading.errors.map(({ row, line, field, rule }) => [row, line, field, rule])).toEqual([
      [2, 4, 'code', 'matches'],
      [3, 5, 'title', 'isDefined'],
      [4, 6, '', 'columns'],
      [5, 7, 'code', 'unique'],
    ]);
  });

  it('reports a syntax error after the errors of the rows before it', () => {
    const reading = csv('code,title,securityRelated\nA,,true\nB,"open,true\nC,c,true\n');
    expect(errorsOf(reading)).toEqual([
      [1, 'title', 'isDefined'],
      [2, '', 'csvSyntax'],
    ]);
  });

  it.each([
    ['an empty file', '', 'header'],
    ['data where the header should be', 'ECU.FLASH,Flash,true\n', 'unknownColumn'],
    ['a header without securityRelated', 'code,title\nA,a\n', 'header'],
    ['an unknown column', 'code,title,securityRelated,colour\n', 'unknownColumn'],
    ['a repeated column', 'code,title,securityRelated,code\n', 'duplicateColumn'],
    ['a broken quote in the header', '"code,title\n', 'csvSyntax'],
  ])('refuses %s at row 0', (_, text, rule) => {
    const reading = csv(text);
    expect(reading.errors.map((e) => e.row)).toContain(0);
    expect(reading.errors.map((e) => e.rule)).toContain(rule);
  });

  it('refuses bytes that are not UTF-8', () => {
    const latin1 = Buffer.from('code,title,securityRelated\nA,Schl\xfcssel,true\n', 'latin1');
    expect(errorsOf(readCsvImport(latin1))).toEqual([[0, '', 'utf8']]);
  });
});

describe('assertImportValid', () => {
  it('returns the rows of a clean reading', () => {
    const rows = [{ code: 'A', title: 'a', securityRelated: true }];
    expect(assertImportValid({ rows, errors: [] })).toBe(rows);
  });

  it(`throws import_invalid with at most ${MAX_REPORTED_ERRORS} errors and the full count`, () => {
    const errors = Array.from({ length: 150 }, (_, i) => ({
      row: i + 1,
      field: 'code',
      rule: 'matches',
      message: 'x',
    }));
    let thrown: unknown;
    try {
      assertImportValid({ rows: [], errors });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppException);
    const exception = thrown as AppException;
    expect([
      exception.code,
      exception.status,
      exception.extensions.errors?.length,
      exception.extensions.errorCount,
    ]).toEqual(['import_invalid', 400, MAX_REPORTED_ERRORS, 150]);
  });
});
