import type { NextFunction, Request, Response } from 'express';
import express from 'express';
import { type OtherBodyType, routedPath } from '../../common/http/request-middleware.js';

export const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';

/** The routes that take HTML form posts: the backend's pages, and signing out from them. */
const FORM_ROUTES = /^\/(account|console|pending)(\/|$)|^\/auth\/logout$/;

/** What requireJsonBodies lets through besides JSON. */
export const PAGE_FORM_BODIES: OtherBodyType = { method: 'POST', path: FORM_ROUTES, mediaType: FORM_MEDIA_TYPE };

/** Flat url-encoded forms (no nested objects), only on those routes, within the body limit. */
export function pageFormBodyParser(limitBytes: number) {
  const parse = express.urlencoded({ extended: false, limit: limitBytes, parameterLimit: 50, type: FORM_MEDIA_TYPE });
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'POST' || !FORM_ROUTES.test(routedPath(req.path))) return next();
    parse(req, res, next);
  };
}
