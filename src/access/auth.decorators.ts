import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { AccountRole } from '../accounts/account.entity.js';
import type {
  AuthenticatedRequest,
  SessionFacts,
  SessionFactsRequest,
  SessionPrincipal,
} from './authenticated-request.js';

const SESSION_REQUIREMENT = 'auth:session';
const REQUIRED_ROLES = 'auth:requiredRoles';
const SIGNS_OUT = 'auth:signsOut';
const ADMIN_AREA = 'auth:adminArea';

/**
 * `required` (the default for every route), `optional` (used when present and valid), `none`, or
 * `checked_by_statement` (required; the route's own statement checks that it is live).
 */
export type SessionRequirement = 'required' | 'optional' | 'none' | 'checked_by_statement';

/**
 * Opts a route out of the global session requirement: the route never sees a session. A state-changing request
 * that brings a live session cookie still needs the CSRF token (the guard checks it), one without the origin check.
 */
export const Public = () => SetMetadata(SESSION_REQUIREMENT, 'none' satisfies SessionRequirement);

/**
 * Works with or without a session. When the browser has a live session it is resolved (and state-changing
 * requests must pass the CSRF check); a dead one has its cookie cleared and the request goes on anonymously.
 */
export const SessionOptional = () => SetMetadata(SESSION_REQUIREMENT, 'optional' satisfies SessionRequirement);

/**
 * A required session that the route checks itself, in the statement that does its work (sessionIsLiveSql): the
 * guard hands it the session's fixed facts (@CurrentSessionFacts()) — from this instance's memory when it looked the
 * session up within the last touch interval — so the route needs no lookup statement of its own. For a hot route
 * whose every request writes anyway (the SERMI decision, which logs itself); with no roles (they can change).
 */
export const SessionCheckedByStatement = () =>
  SetMetadata(SESSION_REQUIREMENT, 'checked_by_statement' satisfies SessionRequirement);
/**
 * Signing out: with a live session, a request the browser proves same-origin (Origin or Referer of a trusted
 * origin, or `Sec-Fetch-Site: same-origin`) needs no CSRF token. A sign-out from a page opened before the browser's
 * latest sign-in carries that page's token, which no longer matches, and the person must not be left signed in
 * believing they signed out; another site still cannot sign anyone out.
 */
export const SignsOut = () => SetMetadata(SIGNS_OUT, true);
/** The session must belong to an account with every listed role. */
export const RequireRoles = (...roles: AccountRole[]) => SetMetadata(REQUIRED_ROLES, roles);

/**
 * The admin area, where every read is audited in the admin's name: a read the browser says another site opened is
 * refused (openedFromThisSite, in the session guard), a page showing a link to open it from here. Every route that requires the
 * `admin` role is in it without the mark; the support desk's pages, which show a sign-in to anyone else, carry it.
 */
export const AdminArea = () => SetMetadata(ADMIN_AREA, true);

/** What a route's decorators are read from: its handler first, then its controller. */
type RouteTargets = Parameters<Reflector['getAllAndOverride']>[1];

/** A route's session requirement: `required` unless its handler or controller says otherwise. */
export const sessionRequirementOf = (reflector: Reflector, targets: RouteTargets): SessionRequirement =>
  reflector.getAllAndOverride<SessionRequirement | undefined>(SESSION_REQUIREMENT, targets) ?? 'required';

/** The roles a route requires (@RequireRoles() on its handler or controller); none unless marked. */
export const requiredRolesOf = (reflector: Reflector, targets: RouteTargets): AccountRole[] =>
  reflector.getAllAndOverride<AccountRole[] | undefined>(REQUIRED_ROLES, targets) ?? [];

/** Whether the route is in the admin area: marked @AdminArea(), or requiring the `admin` role. */
export const inAdminArea = (reflector: Reflector, targets: RouteTargets): boolean =>
  reflector.getAllAndOverride<boolean | undefined>(ADMIN_AREA, targets) === true ||
  requiredRolesOf(reflector, targets).includes('admin');

/** Whether the route signs the browser out (@SignsOut()). */
export const signsOut = (reflector: Reflector, targets: RouteTargets): boolean =>
  reflector.getAllAndOverride<boolean | undefined>(SIGNS_OUT, targets) === true;

/** The signed-in session of the current request (routes with a required session). */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, context: ExecutionContext): SessionPrincipal =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().principal,
);

/** The session of the current request, if any (routes marked @SessionOptional()). */
export const OptionalPrincipal = createParamDecorator(
  (_: unknown, context: ExecutionContext): SessionPrincipal | undefined =>
    context.switchToHttp().getRequest<Partial<AuthenticatedRequest>>().principal,
);

/** The session facts of the current request (routes marked @SessionCheckedByStatement()). */
export const CurrentSessionFacts = createParamDecorator(
  (_: unknown, context: ExecutionContext): SessionFacts =>
    context.switchToHttp().getRequest<SessionFactsRequest>().sessionFacts,
);
