import { Injectable } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { clientMeta } from '../../common/http/client-meta.js';
import { RequestStrategy } from '../../auth/request-strategy.js';
import type { VerifiedLogin } from '../../auth/verified-login.js';
import { UUID_PATTERN } from '../../common/http/cursor.js';
import { BrowserBinding } from '../../login-transactions/browser-binding.js';
import { LoginFailure } from '../../common/problem/login-failure.js';
import { DigidentityLoginService, type PasswordlessPoll } from './digidentity-login.service.js';

/** Web login callback: verifies Digidentity's answer and yields the VerifiedLogin (Passport strategy `digidentity`). */
@Injectable()
export class DigidentityWebStrategy extends PassportStrategy(RequestStrategy, 'digidentity') {
  constructor(
    private readonly logins: DigidentityLoginService,
    private readonly binding: BrowserBinding,
  ) {
    super();
  }

  validate(req: Request): Promise<VerifiedLogin> {
    return this.logins.completeWebLogin(req, this.binding.read(req), clientMeta(req));
  }
}

/** Passwordless poll: yields the poll outcome, a VerifiedLogin once confirmed (Passport strategy `digidentity-passwordless`). */
@Injectable()
export class DigidentityPasswordlessStrategy extends PassportStrategy(RequestStrategy, 'digidentity-passwordless') {
  constructor(
    private readonly logins: DigidentityLoginService,
    private readonly binding: BrowserBinding,
  ) {
    super();
  }

  validate(req: Request): Promise<PasswordlessPoll> {
    const id = req.params.id;
    if (typeof id !== 'string' || !UUID_PATTERN.test(id)) {
      throw new LoginFailure('passwordless_not_found', 'no passwordless login with this id');
    }
    return this.logins.pollPasswordless(id.toLowerCase(), this.binding.read(req), clientMeta(req));
  }
}

/** Lets the strategy's LoginFailure through as it is, instead of Passport's generic 401. */
function rethrow<T>(error: unknown, result: T): T {
  if (error) throw error;
  if (!result) throw new LoginFailure('login_state_invalid', 'the login could not be verified');
  return result;
}

@Injectable()
export class DigidentityWebGuard extends AuthGuard('digidentity') {
  override handleRequest<T>(error: unknown, result: T): T {
    return rethrow(error, result);
  }
}

@Injectable()
export class DigidentityPasswordlessGuard extends AuthGuard('digidentity-passwordless') {
  override handleRequest<T>(error: unknown, result: T): T {
    return rethrow(error, result);
  }
}
