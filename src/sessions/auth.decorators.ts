import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { AccountRole } from '../accounts/account.entity.js';
import type { AuthenticatedRequest, SessionPrincipal } from './authenticated-request.js';

export const IS_PUBLIC = 'auth:isPublic';
export const REQUIRED_ROLES = 'auth:requiredRoles';

/** Opts a route out of the global session requirement. Everything else needs a valid session. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The session must belong to an account with every listed role. */
export const RequireRoles = (...roles: AccountRole[]) => SetMetadata(REQUIRED_ROLES, roles);

/** The signed-in session of the current request (only on routes that are not @Public). */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, context: ExecutionContext): SessionPrincipal =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().principal,
);
