/** One record and the physical line it starts on (quoted fields may span lines). */
export interface CsvRecord {
  fields: string[];
  line: number;
}

export interface CsvSyntaxError {
  /** 1-based index of the record that could not be read, counting the header. */
  record: number;
  line: number;
  message: string;
}

export interface CsvParseResult {
  records: CsvRecord[];
  /** Reading stops at the first syntax error: after a broken quote nothing later can be trusted. */
  error: CsvSyntaxError | null;
}

/**
 * RFC 4180 CSV: comma-separated, fields optionally in double quotes with `""` for a quote, records ending in CRLF
 * or LF (inside quotes both are kept as they are). A leading BOM is ignored, as is the line ending after the last
 * record. Stricter than the RFC's "should" in one way: a quote inside an unquoted field is an error rather than a
 * guess. https://www.rfc-editor.org/rfc/rfc4180#section-2
 */
export function parseCsv(text: string): CsvParseResult {
  const records: CsvRecord[] = [];
  const length = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;

  while (i < length) {
    const start = line;
    const fields: string[] = [];
    const fail = (message: string): CsvParseResult => ({
      records,
      error: { record: records.length + 1, line, message },
    });
    for (;;) {
      let value = '';
      if (text[i] === '"') {
        i += 1;
        for (;;) {
          const quote = text.indexOf('"', i);
          if (quote === -1) {
            line = start;
            return fail('a quoted field is not closed');
          }
          const chunk = text.slice(i, quote);
          value += chunk;
          line += countNewlines(chunk);
          if (text[quote + 1] === '"') {
            value += '"';
            i = quote + 2;
          } else {
            i = quote + 1;
            break;
          }
        }
        if (i < length && text[i] !== ',' && !isLineEnd(text, i)) {
          return fail('a closing quote must be followed by a comma or the end of the line');
        }
      } else {
        let end = i;
        while (end < length && text[end] !== ',' && text[end] !== '\n' && text[end] !== '\r' && text[end] !== '"') {
          end += 1;
        }
        if (text[end] === '"')
          return fail('a quote inside an unquoted field: quote the whole field and double the quote');
        if (text[end] === '\r' && text[end + 1] !== '\n') return fail('a carriage return without a line feed');
        value = text.slice(i, end);
        i = end;
      }
      fields.push(value);
      if (i >= length) {
        records.push({ fields, line: start });
        return { records, error: null };
      }
      if (text[i] === ',') {
        i += 1;
        continue;
      }
      i += text[i] === '\r' ? 2 : 1;
      line += 1;
      records.push({ fields, line: start });
      break;
    }
  }
  return { records, error: null };
}

function isLineEnd(text: string, i: number): boolean {
  return text[i] === '\n' || (text[i] === '\r' && text[i + 1] === '\n');
}

function countNewlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count += 1;
  return count;
}
