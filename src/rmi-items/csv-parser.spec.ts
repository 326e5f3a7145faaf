import { describe, expect, it } from '@jest/globals';
import { parseCsv } from './csv-parser.js';

const fieldsOf = (text: string) => {
  const { records, error } = parseCsv(text);
  expect(error).toBeNull();
  return records.map((record) => record.fields);
};

describe('parseCsv', () => {
  it.each([
    [
      'LF line endings',
      'a,b\nc,d\n',
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    ],
    [
      'CRLF line endings',
      'a,b\r\nc,d\r\n',
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    ],
    [
      'no line ending after the last record',
      'a,b\nc,d',
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    ],
    [
      'empty fields, including a trailing one',
      'a,,\n,b,',
      [
        ['a', '', ''],
        ['', 'b', ''],
      ],
    ],
    ['a quoted comma', '"a,b",c', [['a,b', 'c']]],
    ['a doubled quote inside quotes', '"say ""hi""",x', [['say "hi"', 'x']]],
    ['an empty quoted field', '"",x', [['', 'x']]],
    ['line breaks inside quotes kept as they are', '"l1\r\nl2\nl3",x\n', [['l1\r\nl2\nl3', 'x']]],
    ['a leading byte order mark', '\uFEFFcode,title\n', [['code', 'title']]],
    ['non-ASCII text', 'Zündschlüssel,Ключ,鍵 🔑', [['Zündschlüssel', 'Ключ', '鍵 🔑']]],
    ['spaces kept, not trimmed', ' a , b ', [[' a ', ' b ']]],
    ['a blank line as one empty field', 'a\n\nb', [['a'], [''], ['b']]],
  ])('reads %s', (_, text, expected) => {
    expect(fieldsOf(text)).toEqual(expected);
  });

  it('reads nothing from an empty text or a lone byte order mark', () => {
    expect(fieldsOf('')).toEqual([]);
    expect(fieldsOf('\uFEFF')).toEqual([]);
  });

  it('reports the line each record starts on, counting line breaks inside quotes', () => {
    const { records } = parseCsv('h1,h2\r\n"multi\nline\nvalue",x\r\nnext,y\n');
    expect(records.map((record) => record.line)).toEqual([1, 2, 5]);
  });

  it.each([
    ['an unterminated quote', 'h\nok\n"never closed\nmore', 3, 3, 'a quoted field is not closed'],
    [
      'text after a closing quote',
      'h\n"a"b,c',
      2,
      2,
      'a closing quote must be followed by a comma or the end of the line',
    ],
    [
      'a quote inside an unquoted field',
      'h\nab"c',
      2,
      2,
      'a quote inside an unquoted field: quote the whole field and double the quote',
    ],
    ['a bare carriage return', 'h\na\rb', 2, 2, 'a carriage return without a line feed'],
  ])('stops at %s with the record and line', (_, text, record, line, message) => {
    const { records, error } = parseCsv(text);
    expect(error).toEqual({ record, line, message });
    expect(records).toHaveLength(record - 1);
  });
});
