import { asciiUpperCase } from '../common/http/ascii-upper-case.js';
import { isWellFormedText } from '../common/http/input-shape.js';
import { AppException, type FieldError } from '../common/problem/app-exception.js';
import { parseCsv, type CsvRecord } from './csv-parser.js';
import { charLength, isRmiItemCode, RMI_ITEM_CODE_MESSAGE, RMI_ITEM_LIMITS } from './rmi-item-fields.js';

export const MAX_IMPORT_ROWS = 10_000;
export const MAX_REPORTED_ERRORS = 100;

/**
 * One item as the import states it. An optional field that is absent (JSON key left out, CSV column missing)
 * keeps the stored value; `null` (or an empty CSV cell) clears it.
 */
export interface ImportRow {
  code: string;
  title: string;
  securityRelated: boolean;
  category?: string | null;
  notes?: string | null;
}

/** A field error with the 1-based data row it belongs to (0: the document itself or the CSV header). */
export interface ImportError extends FieldError {
  row: number;
  /** CSV only: the line the record starts on, since quoted fields can span lines. */
  line?: number;
}

export interface ImportReading {
  rows: ImportRow[];
  errors: ImportError[];
}

const CSV_COLUMNS = ['code', 'title', 'securityRelated', 'category', 'notes'] as const;
const REQUIRED_COLUMNS = ['code', 'title', 'securityRelated'] as const;
const CSV_BOOLEANS = new Map([
  ['true', true],
  ['yes', true],
  ['1', true],
  ['false', false],
  ['no', false],
  ['0', false],
]);

/** `{ "items": [ {code, title, securityRelated, category?, notes?}, … ] }` */
export function readJsonImport(body: unknown): ImportReading {
  if (
    body === null ||
    typeof body !== 'object' ||
    Array.isArray(body) ||
    !Array.isArray((body as { items?: unknown }).items)
  ) {
    return documentError('items', 'isArray', 'the body must be an object with an items array');
  }
  const extra = Object.keys(body).filter((key) => key !== 'items');
  if (extra.length > 0) return documentError(extra[0], 'whitelistValidation', `property ${extra[0]} should not exist`);
  const items = (body as { items: unknown[] }).items;
  if (items.length > MAX_IMPORT_ROWS) return tooManyRows();
  return validateRows(items.map((item, index) => ({ row: index + 1, value: item })));
}

/** A header row `code,title,securityRelated[,category][,notes]` (any order), then one item per record. */
export function readCsvImport(body: Buffer): ImportReading {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return documentError('', 'utf8', 'the file is not valid UTF-8');
  }
  const { records, error } = parseCsv(text);
  const [header, ...data] = records;
  if (!header) {
    return error ? { rows: [], errors: [syntaxError(error)] } : documentError('', 'header', missingHeaderMessage());
  }
  const columns = readHeader(header);
  if (!Array.isArray(columns)) return { rows: [], errors: columns.errors };
  if (data.length > MAX_IMPORT_ROWS) return tooManyRows();

  const errors: ImportError[] = [];
  const candidates: Candidate[] = [];
  data.forEach((record, index) => {
    const row = index + 1;
    // A blank line is skipped but still counted, so row numbers match what a spreadsheet shows.
    if (record.fields.length === 1 && record.fields[0] === '') return;
    if (record.fields.length !== columns.length) {
      errors.push({
        row,
        line: record.line,
        field: '',
        rule: 'columns',
        message: `expected ${columns.length} columns as in the header, found ${record.fields.length}`,
      });
      return;
    }
    candidates.push({ row, line: record.line, value: csvItem(columns, record) });
  });
  if (error) errors.push(syntaxError(error));
  const validated = validateRows(candidates);
  return { rows: validated.rows, errors: [...errors, ...validated.errors].sort((a, b) => a.row - b.row) };
}

/** Throws the 400 `import_invalid` problem for a failed reading, listing the first errors. */
export function assertImportValid(reading: ImportReading): ImportRow[] {
  const { errors } = reading;
  if (errors.length === 0) return reading.rows;
  throw new AppException(
    'import_invalid',
    `${errors.length} problem${errors.length === 1 ? '' : 's'} found; nothing was imported` +
      (errors.length > MAX_REPORTED_ERRORS ? ` (the first ${MAX_REPORTED_ERRORS} are listed)` : ''),
    { errors: errors.slice(0, MAX_REPORTED_ERRORS), errorCount: errors.length },
  );
}

interface Candidate {
  row: number;
  line?: number;
  value: unknown;
}

type Column = (typeof CSV_COLUMNS)[number];

function readHeader(header: CsvRecord): Column[] | { errors: ImportError[] } {
  const errors: ImportError[] = [];
  const columns: Column[] = [];
  for (const name of header.fields) {
    const column = CSV_COLUMNS.find((known) => known.toLowerCase() === name.toLowerCase());
    if (!column) errors.push(headerError(name, 'unknownColumn', `unknown column "${name}"`));
    else if (columns.includes(column))
      errors.push(headerError(name, 'duplicateColumn', `column ${column} appears twice`));
    else columns.push(column);
  }
  const missing = REQUIRED_COLUMNS.filter((column) => !columns.includes(column));
  if (missing.length > 0)
    errors.push(headerError('', 'header', `${missingHeaderMessage()}; missing ${missing.join(', ')}`));
  return errors.length > 0 ? { errors } : columns;
}

function csvItem(columns: Column[], record: CsvRecord): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  columns.forEach((column, index) => {
    const cell = record.fields[index];
    if (column === 'securityRelated') item[column] = CSV_BOOLEANS.get(cell.toLowerCase()) ?? cell;
    else if (column === 'category' || column === 'notes') item[column] = cell === '' ? null : cell;
    else item[column] = cell;
  });
  return item;
}

function validateRows(candidates: Candidate[]): ImportReading {
  const rows: ImportRow[] = [];
  const errors: ImportError[] = [];
  const firstRowOfCode = new Map<string, number>();
  for (const { row, line, value } of candidates) {
    const fieldErrors = itemErrors(value);
    if (fieldErrors.length === 0) {
      const item = normalised(value as ImportRow);
      const first = firstRowOfCode.get(item.code);
      if (first === undefined) {
        firstRowOfCode.set(item.code, row);
        rows.push(item);
      } else {
        fieldErrors.push({
          field: 'code',
          rule: 'unique',
          message: `code ${item.code} already appears in row ${first}`,
        });
      }
    }
    errors.push(...fieldErrors.map((error) => ({ row, ...(line === undefined ? {} : { line }), ...error })));
  }
  return { rows, errors };
}

function normalised(item: ImportRow): ImportRow {
  const row: ImportRow = { code: asciiUpperCase(item.code), title: item.title, securityRelated: item.securityRelated };
  if (item.category !== undefined) row.category = item.category;
  if (item.notes !== undefined) row.notes = item.notes;
  return row;
}

/** The rules of CreateRmiItemDto, applied to one import item. */
function itemErrors(value: unknown): FieldError[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [{ field: '', rule: 'isObject', message: 'each item must be an object' }];
  }
  const item = value as Record<string, unknown>;
  const errors: FieldError[] = [];
  const fail = (field: string, rule: string, message: string) => errors.push({ field, rule, message });
  for (const key of Object.keys(item)) {
    if (!(CSV_COLUMNS as readonly string[]).includes(key))
      fail(key, 'whitelistValidation', `property ${key} should not exist`);
  }
  if (item.code === undefined || item.code === '') fail('code', 'isDefined', 'code is required');
  else if (typeof item.code !== 'string' || !isRmiItemCode(asciiUpperCase(item.code)))
    fail('code', 'matches', RMI_ITEM_CODE_MESSAGE);

  if (item.title === undefined || item.title === '') fail('title', 'isDefined', 'title is required');
  else if (typeof item.title !== 'string') fail('title', 'isString', 'title must be a string');
  else if (!/\S/.test(item.title)) fail('title', 'isNotBlank', 'title must not be blank');
  else if (charLength(item.title) > RMI_ITEM_LIMITS.titleMax)
    fail('title', 'maxLength', `title must be at most ${RMI_ITEM_LIMITS.titleMax} characters`);

  if (item.securityRelated === undefined || item.securityRelated === '')
    fail('securityRelated', 'isDefined', 'securityRelated is required');
  else if (typeof item.securityRelated !== 'boolean')
    fail('securityRelated', 'isBoolean', 'securityRelated must be true or false (CSV also: yes/no, 1/0)');

  optionalText(item, 'category', RMI_ITEM_LIMITS.categoryMax, fail);
  optionalText(item, 'notes', RMI_ITEM_LIMITS.notesMax, fail);

  for (const field of ['code', 'title', 'category', 'notes']) {
    const text = item[field];
    if (typeof text === 'string' && text.includes('\u0000'))
      fail(field, 'noNulCharacter', `${field} must not contain NUL characters`);
    if (typeof text === 'string' && !isWellFormedText(text))
      fail(field, 'wellFormedUnicode', `${field} must be well-formed Unicode (no lone surrogates)`);
  }
  return errors;
}

function optionalText(
  item: Record<string, unknown>,
  field: 'category' | 'notes',
  max: number,
  fail: (field: string, rule: string, message: string) => void,
): void {
  const value = item[field];
  if (value === undefined || value === null) return;
  if (typeof value !== 'string') fail(field, 'isString', `${field} must be a string or null`);
  else if (value.length === 0 || charLength(value) > max)
    fail(field, 'length', `${field} must be 1 to ${max} characters (null clears it)`);
}

function documentError(field: string, rule: string, message: string): ImportReading {
  return { rows: [], errors: [{ row: 0, field, rule, message }] };
}

function headerError(field: string, rule: string, message: string): ImportError {
  return { row: 0, line: 1, field, rule, message };
}

function tooManyRows(): ImportReading {
  return {
    rows: [],
    errors: [
      {
        row: MAX_IMPORT_ROWS + 1,
        field: '',
        rule: 'maxRows',
        message: `an import holds at most ${MAX_IMPORT_ROWS} items`,
      },
    ],
  };
}

function syntaxError(error: { record: number; line: number; message: string }): ImportError {
  return { row: error.record - 1, line: error.line, field: '', rule: 'csvSyntax', message: error.message };
}

function missingHeaderMessage(): string {
  return 'the first line must be the header code,title,securityRelated[,category][,notes]';
}
