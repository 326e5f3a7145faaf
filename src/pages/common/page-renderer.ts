import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Request, Response } from 'express';
import nunjucks from 'nunjucks';
import type { AppConfig } from '../../app/app.config.js';
import { InjectAppConfig } from '../../config/config.module.js';
import { requestIdOf } from '../../common/request-context/request-context.js';
import type { SessionPrincipal } from '../../access/authenticated-request.js';
import { csrfTokenFor } from '../../access/session-token.js';
import { PageAssets } from './page-assets.js';
import { VIEWS_DIR } from './page-files.js';
import { providerName } from './provider-names.js';
import { SANDBOX_INFO, type SandboxInfo } from './sandbox-info.js';
import { WRITTEN_REASON_MAX } from '../../common/http/written-reason.js';

/**
 * Where the pages may send a form's browser: this site, and the providers a form post may redirect to (adding a
 * login method, attaching a pending identity, signing out of the provider). Chrome applies form-action to the
 * redirects after a form post too.
 */
function formTargets(config: AppConfig): string[] {
  const origins = new Set<string>(["'self'"]);
  for (const issuer of [config.digidentity?.issuer, config.signicatIdin?.issuer, config.itsme?.issuer]) {
    if (issuer) origins.add(issuer.origin);
  }
  const eherkenning = config.signicatEherkenning;
  if (eherkenning?.baseUrl) {
    origins.add(eherkenning.baseUrl.origin);
    for (const host of eherkenning.authenticationHosts) origins.add(`https://${host}`);
    // Signicat's authentication page may be on a sibling of the API host (api.signicat.com → *.signicat.com).
    const parent = eherkenning.baseUrl.hostname.split('.').slice(1).join('.');
    if (parent.includes('.')) origins.add(`https://*.${parent}`);
  }
  return [...origins];
}

/** Scripts and styles only from files this backend serves: no inline script or style, no other site's assets. */
export function contentSecurityPolicy(config: AppConfig): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    `form-action ${formTargets(config).join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** Who is looking at a page: what the layout needs (navigation, the CSRF token for its forms). */
export interface Viewer {
  signedIn: boolean;
  displayName?: string;
  accountId?: string;
  isAdmin?: boolean;
  csrfToken?: string;
}

export function viewerOf(principal: SessionPrincipal | undefined): Viewer {
  if (!principal) return { signedIn: false };
  return {
    signedIn: true,
    displayName: principal.account.displayName,
    accountId: principal.accountId,
    isAdmin: principal.roles.includes('admin'),
    csrfToken: csrfTokenFor(principal.token),
  };
}

/** A configured number of seconds as a person reads it: "3 days", "12 hours", "30 minutes" (rounded down). */
export function durationInWords(seconds: number): string {
  const units: Array<[number, string]> = [
    [86_400, 'day'],
    [3_600, 'hour'],
    [60, 'minute'],
  ];
  const [size, unit] = units.find(([unitSeconds]) => seconds >= 2 * unitSeconds) ?? [60, 'minute'];
  const amount = Math.max(1, Math.floor(seconds / size));
  return `${amount} ${unit}${amount === 1 ? '' : 's'}`;
}

const DATE_TIME = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'medium',
  timeStyle: 'short',
  timeZone: 'UTC',
});

/** Renders the backend's pages (nunjucks, every value escaped unless a template says otherwise). */
@Injectable()
export class PageRenderer {
  private readonly env: nunjucks.Environment;
  private readonly csp: string;

  constructor(
    @InjectAppConfig() config: AppConfig,
    readonly assets: PageAssets,
    @Optional() @Inject(SANDBOX_INFO) private readonly sandbox?: SandboxInfo,
  ) {
    this.env = new nunjucks.Environment(new nunjucks.FileSystemLoader(VIEWS_DIR), {
      autoescape: true,
      throwOnUndefined: false,
    });
    this.env.addFilter('provider', (value: unknown) => providerName(String(value)));
    this.env.addFilter('dateTime', (value: unknown) => {
      if (value === null || value === undefined || value === '') return '—';
      const date = value instanceof Date ? value : new Date(String(value));
      return Number.isNaN(date.getTime()) ? '—' : `${DATE_TIME.format(date)} UTC`;
    });
    this.env.addFilter('asset', (name: unknown) => this.assets.url(String(name)));
    this.env.addFilter('duration', (seconds: unknown) => durationInWords(Number(seconds)));
    // The forms' limit is the API's: a reason the page lets through is one the API takes.
    this.env.addGlobal('writtenReasonMax', WRITTEN_REASON_MAX);
    this.csp = contentSecurityPolicy(config);
  }

  get sandboxInfo(): SandboxInfo | undefined {
    return this.sandbox;
  }

  html(template: string, context: Record<string, unknown>, req: Request): string {
    return this.env.render(template, {
      ...context,
      sandbox: this.sandbox !== undefined,
      requestId: requestIdOf(req),
    });
  }

  render(
    req: Request,
    res: Response,
    template: string,
    context: Record<string, unknown> & { viewer: Viewer; title: string },
    status = 200,
  ): void {
    const body = this.html(template, context, req);
    res.status(status);
    this.headers(res);
    res.send(body);
  }

  headers(res: Response): void {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Security-Policy', this.csp);
    res.setHeader('Referrer-Policy', 'same-origin');
  }
}
