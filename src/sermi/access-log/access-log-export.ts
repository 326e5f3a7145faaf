import type { Response } from 'express';
import type { Logger } from 'pino';
import type { AccessLogExportFormat } from './dto/access-log-query.dto.js';
import type { AccessLogRecordDto } from './dto/access-log-record.dto.js';
import { ACCESS_LOG_FIELDS, type AccessLogExportCursor } from './sermi-access-log.repository.js';
import { requestIdOf } from '../../common/request-context/request-context.js';
import { logFailure } from '../../common/logging/fault-log.js';

export const EXPORT_CONTENT_TYPES: Record<AccessLogExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson',
};

/**
 * Characters that make a spreadsheet read a cell as a formula (OWASP "CSV Injection"). Such a cell gets a leading
 * `'`. UIDs, user agents and reasons partly come from outside (identity provider, browser), so they are untrusted.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV field (RFC 4180). Every non-empty field is quoted, so a spreadsheet that splits on `;` (common in
 * European locales) still sees one cell and cannot be tricked into a formula by `…;=cmd`. null is an empty field. */
export function csvField(value: string | boolean | null): string {
  if (value === null) return '';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return `"${text.replaceAll('"', '""')}"`;
}

export const CSV_HEADER = `${ACCESS_LOG_FIELDS.join(',')}\r\n`;

export function csvLine(record: AccessLogRecordDto): string {
  return `${ACCESS_LOG_FIELDS.map((field) => csvField(record[field])).join(',')}\r\n`;
}

export function ndjsonLine(record: AccessLogRecordDto): string {
  return `${JSON.stringify(record)}\n`;
}

/** `sermi-access-log-20261122T100000Z.csv` */
export function exportFilename(format: AccessLogExportFormat, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `sermi-access-log-${stamp}.${format}`;
}

/**
 * Streams the cursor's rows into the response, one FETCH batch at a time, waiting for the socket to drain
 * before fetching more: memory stays at about one batch however large the export. Headers go out only once the
 * first batch is in hand, so a failure up to then is still a problem+json answer (the error is rethrown). A
 * failure after that cannot change the status any more: it is logged and the socket destroyed, so the client sees
 * an incomplete download rather than a complete-looking one. Stops when the client goes away. Always closes the
 * cursor.
 */
export function setExportHeaders(res: Response, format: AccessLogExportFormat): void {
  res.status(200);
  res.setHeader('Content-Type', EXPORT_CONTENT_TYPES[format]);
  res.setHeader('Content-Disposition', `attachment; filename="${exportFilename(format)}"`);
  res.setHeader('Cache-Control', 'no-store');
}

export async function streamExport(
  res: Response,
  cursor: AccessLogExportCursor,
  format: AccessLogExportFormat,
  logger: Logger,
): Promise<{ rows: number; completed: boolean }> {
  const line = format === 'csv' ? csvLine : ndjsonLine;
  let rows = 0;
  let completed = false;
  let clientGone = res.destroyed;
  const onGone = () => (clientGone = true);
  res.once('close', onGone);
  res.on('error', onGone);
  try {
    let batch = await cursor.next();
    setExportHeaders(res, format);
    if (format === 'csv') res.write(CSV_HEADER);
    while (batch.length > 0 && !clientGone) {
      rows += batch.length;
      // As a Buffer: a string still queued on the socket is held as UTF-8 storage sized for the worst case (3
      // bytes per character), three times what the batch needs.
      if (!res.write(Buffer.from(batch.map(line).join(''), 'utf8')) && !(await drained(res))) break;
      batch = await cursor.next();
    }
    if (!clientGone) {
      res.end();
      completed = true;
    }
  } catch (error) {
    if (!res.headersSent) throw error;
    logFailure(
      logger,
      error,
      { requestId: requestIdOf(res.req), rows },
      'SERMI access log export failed after the download started',
    );
    res.destroy();
  } finally {
    res.off('close', onGone);
    res.off('error', onGone);
    await cursor.close(completed);
  }
  return { rows, completed };
}

/**
 * A client that stops reading for this long (a paused download) is dropped: it would otherwise hold an export slot
 * and a cursor's connection until Postgres's idle-in-transaction timeout, and the slot for as long as the socket.
 */
export const EXPORT_STALL_TIMEOUT_MS = 30_000;

/** true once the response can take more; false if the client went away or stopped reading (then it is dropped). */
export function drained(res: Response, stallTimeoutMs = EXPORT_STALL_TIMEOUT_MS): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(stalled);
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const stalled = setTimeout(() => {
      done(false);
      res.destroy();
    }, stallTimeoutMs);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
