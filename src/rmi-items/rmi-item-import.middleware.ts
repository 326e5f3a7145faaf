import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { routedPath } from '../common/http/request-middleware.js';
import { AppException } from '../common/problem/app-exception.js';

export const RMI_ITEM_IMPORT_PATH = '/api/admin/rmi-items/import';
export const RMI_ITEM_IMPORT_LIMIT_BYTES = 5 * 1024 * 1024;
export const CSV_MEDIA_TYPE = 'text/csv';

/** What requireJsonBodies lets through besides JSON. */
export const RMI_ITEM_IMPORT_MEDIA_TYPE = { method: 'POST', path: RMI_ITEM_IMPORT_PATH, mediaType: CSV_MEDIA_TYPE };

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

/**
 * The import alone takes up to 5 MB, as JSON or as CSV; every other route keeps the global JSON limit. Mounted
 * before the global parser, which then finds the body already read and leaves it alone. The body is read only for
 * a live admin session (`isAdmin`, asked with the session cookie): anyone else is refused by the guards without 5 MB
 * being read and parsed first. CSV stays a Buffer here and is decoded strictly as UTF-8 by readCsvImport, so a
 * Latin-1 file is refused instead of garbled.
 */
export function rmiItemImportBodyParser(
  sessionCookie: string,
  isAdmin: (sessionToken: string) => Promise<boolean>,
  limit = RMI_ITEM_IMPORT_LIMIT_BYTES,
): RequestHandler {
  const json = express.json({ limit, strict: true, type: ['application/json', 'application/*+json'] });
  const csv = express.raw({ limit, type: CSV_MEDIA_TYPE });
  return (req: Request, res: Response, next: NextFunction) => {
    // Every POST passes here (SERMI decisions among them): the cheap test first.
    if (req.method !== 'POST' || !req.path.startsWith(RMI_ITEM_IMPORT_PATH)) return next();
    if (routedPath(req.path) !== RMI_ITEM_IMPORT_PATH) return next();
    const token = (req.cookies as Record<string, string> | undefined)?.[sessionCookie];
    if (!token) return next();
    isAdmin(token).then(
      (admin) => {
        if (!admin) return next();
        const charset = CHARSET.exec(req.headers['content-type'] ?? '')?.[1].toLowerCase();
        if (req.is(CSV_MEDIA_TYPE) && charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
          return next(new AppException('unsupported_media_type', 'CSV files must be UTF-8'));
        }
        json(req, res, (error?: unknown) => (error ? next(error) : csv(req, res, next)));
      },
      (error: unknown) => next(error),
    );
  };
}
