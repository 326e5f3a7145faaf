import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import type { Request } from 'express';
import { AppException } from '../problem/app-exception.js';

interface DeclaredInput {
  body: boolean;
  query: boolean;
}

/**
 * Routes that declare no @Query() or @Body() refuse query parameters and bodies instead of ignoring them, so
 * "unknown fields are refused" holds for every endpoint, not only those with a DTO. A global guard registered after
 * the session guard: a request is authenticated first, and refused input never reaches a route's own guards (a
 * SERMI decision, a provider). A guard rather than an interceptor because any interceptor puts every request of
 * the app through Nest's rxjs pipeline (about 8 % of a request's CPU here).
 */
@Injectable()
export class UndeclaredInputGuard implements CanActivate {
  private readonly declared = new WeakMap<object, DeclaredInput>();

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const declared = this.declaredInput(context);
    if (!declared.query) {
      const keys = Object.keys(req.query ?? {});
      if (keys.length > 0) throw unexpected(keys, 'query parameter');
    }
    if (!declared.body && req.body !== undefined && !isEmptyObject(req.body)) {
      throw new AppException('validation_failed', 'This endpoint takes no request body', {
        errors: [{ field: '', rule: 'noBody', message: 'no request body is accepted here' }],
      });
    }
    return true;
  }

  private declaredInput(context: ExecutionContext): DeclaredInput {
    const handler = context.getHandler();
    let declared = this.declared.get(handler);
    if (!declared) {
      const args = Object.keys(Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ?? {});
      const has = (type: RouteParamtypes) => args.some((key) => key.startsWith(`${type}:`));
      declared = { body: has(RouteParamtypes.BODY), query: has(RouteParamtypes.QUERY) };
      this.declared.set(handler, declared);
    }
    return declared;
  }
}

function unexpected(keys: string[], what: string): AppException {
  return new AppException('validation_failed', `Unknown ${what}s`, {
    errors: keys.map((key) => ({
      field: key,
      rule: 'whitelistValidation',
      message: `${what} ${key} should not exist`,
    })),
  });
}

/** No body, as body parsers and clients put it: `{}` (an empty array is a body of another shape). */
const isEmptyObject = (body: unknown) =>
  typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0;
