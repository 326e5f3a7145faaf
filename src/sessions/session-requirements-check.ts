import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { requiredRolesOf, sessionRequirementOf } from '../access/auth.decorators.js';

/**
 * Refuses to start an app with a route that SessionGuard could not serve: @SessionCheckedByStatement() hands the
 * route only the session's fixed facts, so @RequireRoles() on it (roles can change at any time) has nothing to
 * check against. Found at start-up rather than as a 500 on the route's first request.
 */
@Injectable()
export class SessionRequirementsCheck implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    const conflicts: string[] = [];
    for (const { metatype } of this.discovery.getControllers()) {
      if (!metatype) continue;
      const prototype = metatype.prototype as Record<string, () => unknown>;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const targets = [prototype[name], metatype];
        const statementChecked = sessionRequirementOf(this.reflector, targets) === 'checked_by_statement';
        if (statementChecked && requiredRolesOf(this.reflector, targets).length > 0) {
          conflicts.push(`${metatype.name}.${name}`);
        }
      }
    }
    if (conflicts.length > 0) {
      throw new Error(
        `Routes whose statement checks their session cannot require roles (they are not in it): ${conflicts.join(', ')}`,
      );
    }
  }
}
