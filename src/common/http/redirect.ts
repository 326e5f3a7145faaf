import type { Response } from 'express';

/**
 * Sends the browser on with an empty body. Express's `res.redirect` negotiates a body for every redirect (a text or
 * HTML "Redirecting to …" note, chosen from the Accept header) that browsers never show; a login ends in two of them.
 */
export function redirect(res: Response, status: 302 | 303, location: string): void {
  // res.location encodes the URL as res.redirect does.
  res.location(location).status(status).setHeader('Content-Length', '0');
  res.end();
}
