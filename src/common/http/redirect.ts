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

/** Text for the few pages written without the page renderer (its templates escape on their own). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Sends the browser on to a path of this site through a page of ours (a meta refresh, with a link for a browser that
 * does not follow it): the browser then reports the next request as opened by this site, which a redirect at the
 * end of a provider's chain of redirects is not.
 */
export function navigateFromThisSite(res: Response, path: string): void {
  const href = escapeHtml(path);
  res
    .status(200)
    .type('html')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signing in</title>` +
        `<meta http-equiv="refresh" content="0;url=${href}"></head>` +
        `<body><p><a href="${href}">Continue</a></p></body></html>`,
    );
}
