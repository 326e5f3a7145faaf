import { asciiUpperCase } from '../common/http/ascii-upper-case.js';
import {
  applyDecorators,
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { clientMeta } from '../common/http/client-meta.js';
import { AppException, type FieldError } from '../common/problem/app-exception.js';
import { RMI_ITEM_CODE_PATTERN } from '../rmi-items/rmi-item.entity.js';
import type { AuthenticatedRequest } from '../access/authenticated-request.js';
import { VIN_PATTERN } from './access-rules.js';
import { type AccessResult, SermiAccessService } from './sermi-access.service.js';

export interface RequiresSermiOptions {
  /** The RMI item the route serves: a fixed code, or read from the request. */
  item: string | ((req: Request) => unknown);
  /** Where the route finds the VIN; by default the `vin` route parameter. */
  vin?: (req: Request) => unknown;
}

const REQUIRES_SERMI = 'sermi:requires';
type SermiRequest = AuthenticatedRequest & { sermiAccess?: AccessResult };

const asciiUpper = (value: unknown) => (typeof value === 'string' ? asciiUpperCase(value) : value);

/**
 * Applies the access decision of POST /api/sermi/access to any route: the same rules, the same log record, and
 * the grant available to the handler through @SermiAccess(). A denial is a 403 problem whose code is the reason.
 */
@Injectable()
export class RequiresSermiGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly access: SermiAccessService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // On a method, or on a whole controller (every route of it, the method's options first).
    const options = this.reflector.getAllAndOverride<RequiresSermiOptions>(REQUIRES_SERMI, [
      context.getHandler(),
      context.getClass(),
    ]);
    const req = context.switchToHttp().getRequest<SermiRequest>();
    if (!req.principal) throw new AppException('unauthenticated', 'Sign in first');
    const vin = asciiUpper(options.vin ? options.vin(req) : req.params.vin);
    const item = asciiUpper(typeof options.item === 'string' ? options.item : options.item(req));
    const errors: FieldError[] = [];
    if (typeof vin !== 'string' || !VIN_PATTERN.test(vin)) {
      errors.push({
        field: 'vin',
        rule: 'matches',
        message: 'vin must be 17 characters: digits and letters except I, O and Q',
      });
    }
    if (typeof item !== 'string' || !RMI_ITEM_CODE_PATTERN.test(item)) {
      errors.push({ field: 'item', rule: 'matches', message: 'item must be an RMI item code' });
    }
    if (errors.length > 0) throw new AppException('validation_failed', 'The vehicle or item is not valid', { errors });
    const result = await this.access.decide({
      session: req.principal,
      vin: vin as string,
      itemCode: item as string,
      ...clientMeta(req),
      returnTo: req.originalUrl,
    });
    if (result.decision === 'denied') {
      throw new AppException(result.reason as DenialCode, undefined, {
        accessId: result.accessId,
        reauthenticateUrl: result.reauthenticateUrl,
      });
    }
    req.sermiAccess = result;
    return true;
  }
}

type DenialCode = 'sermi_login_required' | 'reauthentication_required' | 'chain_vehicle_mismatch';

export const RequiresSermi = (options: RequiresSermiOptions) =>
  applyDecorators(SetMetadata(REQUIRES_SERMI, options), UseGuards(RequiresSermiGuard));

/** The granted decision (with its grant, for security-related items) of a @RequiresSermi() route. */
export const SermiAccess = createParamDecorator(
  (_: unknown, context: ExecutionContext): AccessResult =>
    context.switchToHttp().getRequest<SermiRequest>().sermiAccess!,
);
