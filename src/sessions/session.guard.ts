import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AppException } from '../common/problem/app-exception.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import type { AuthenticatedRequest, SessionFactsRequest } from '../access/authenticated-request.js';
import { inAdminArea, requiredRolesOf, sessionRequirementOf, signsOut } from '../access/auth.decorators.js';
import {
  assertSameOriginRequest,
  assertTrustedSource,
  isStateChanging,
  openedFromThisSite,
  provesTrustedSource,
  takeFormCsrfToken,
} from '../access/csrf.js';
import { SessionCookie } from './session-cookie.js';
import { SessionsService } from './sessions.service.js';

/**
 * Global guard: every route needs a live session unless marked @Public() or @SessionOptional(); @RequireRoles()
 * routes need the roles. Roles are read from the account on every request, so a demotion takes effect immediately.
 *
 * A route marked @SessionCheckedByStatement() gets the session's fixed facts instead (SessionsService.facts()) and
 * checks liveness in its own statement; it has no roles (SessionRequirementsCheck refuses them at start-up).
 *
 * CSRF, on every state-changing request whatever the route's requirement: with a live session cookie the origin
 * check and the session's CSRF token; without one (none, or a dead cookie, which is cleared — no token can exist
 * for it) the origin check alone. A @Public() route thus cannot be driven cross-site with the browser's session.
 * Reads in the admin area (@AdminArea(), admin routes), audited in the admin's name, must not come from another site.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionsService,
    private readonly cookie: SessionCookie,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const requirement = sessionRequirementOf(this.reflector, targets);
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const writes = isStateChanging(req);
    // The headers first: the route's metadata is read only for the rare read another site opened.
    if (!writes && !openedFromThisSite(req, this.config.http.trustedOrigins) && inAdminArea(this.reflector, targets)) {
      throw new AppException('opened_from_another_site', 'The browser reports that another site opened this address');
    }
    if (requirement === 'none' && !writes) return true;
    const formToken = writes ? takeFormCsrfToken(req) : undefined;
    const token = this.cookie.read(req);
    if (requirement === 'checked_by_statement') {
      // SessionRequirementsCheck refuses such a route at start-up; should one get here anyway, it fails closed.
      if (requiredRolesOf(this.reflector, targets).length > 0) {
        throw new Error('A route whose statement checks its session cannot require roles: they are not in it');
      }
      const facts = token ? await this.sessions.facts(token) : null;
      if (!facts) {
        if (token) this.cookie.clearEnded(http.getResponse<Response>());
        throw new AppException('unauthenticated', 'Sign in to continue');
      }
      if (writes) assertSameOriginRequest(req, facts.token, this.config.http.trustedOrigins, formToken);
      http.getResponse<Response>().setHeader('Cache-Control', 'no-store');
      (req as SessionFactsRequest).sessionFacts = facts;
      return true;
    }

    const principal = token ? await this.sessions.authenticate(token) : null;
    if (!principal) {
      if (token) this.cookie.clearEnded(http.getResponse<Response>());
      if (requirement === 'required') throw new AppException('unauthenticated', 'Sign in to continue');
      if (writes) assertTrustedSource(req, this.config.http.trustedOrigins);
      return true;
    }
    if (writes) {
      try {
        // A sign-out from a page of this origin needs no token: a stale tab's token must not keep a person signed in.
        if (!(signsOut(this.reflector, targets) && provesTrustedSource(req, this.config.http.trustedOrigins))) {
          assertSameOriginRequest(req, principal.token, this.config.http.trustedOrigins, formToken);
        }
      } catch (refused) {
        // Only for the page that explains the refusal: the person is still signed in, and can sign out from it.
        (req as AuthenticatedRequest).principal = principal;
        throw refused;
      }
    }
    // A public route does not act on the session; it was looked at only for the CSRF check above.
    if (requirement === 'none') return true;

    const required = requiredRolesOf(this.reflector, targets);
    if (!required.every((role) => principal.roles.includes(role))) {
      throw new AppException('forbidden', `Requires the ${required.join(', ')} role`);
    }
    // An answer made for a signed-in person (an admin's view of accounts, say) stays out of the browser's cache: the
    // next person at a shared PC finds none of it there. A route may still say otherwise.
    http.getResponse<Response>().setHeader('Cache-Control', 'no-store');
    (req as AuthenticatedRequest).principal = principal;
    return true;
  }
}
