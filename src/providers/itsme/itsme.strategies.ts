import { Injectable } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { clientMeta } from '../../common/http/client-meta.js';
import { RequestStrategy } from '../../auth/request-strategy.js';
import type { VerifiedLogin } from '../../auth/verified-login.js';
import { BrowserBinding } from '../../login-transactions/browser-binding.js';
import { LoginFailure } from '../../common/problem/login-failure.js';
import { ItsmeLoginService } from './itsme-login.service.js';

/** Callback: verifies itsme's answer and yields the VerifiedLogin (Passport strategy `itsme`). */
@Injectable()
export class ItsmeStrategy extends PassportStrategy(RequestStrategy, 'itsme') {
  constructor(
    private readonly logins: ItsmeLoginService,
    private readonly binding: BrowserBinding,
  ) {
    super();
  }

  validate(req: Request): Promise<VerifiedLogin> {
    return this.logins.completeWebLogin(req, this.binding.read(req), clientMeta(req));
  }
}

/** Lets the strategy's LoginFailure through as it is, instead of Passport's generic 401. */
@Injectable()
export class ItsmeGuard extends AuthGuard('itsme') {
  override handleRequest<T>(error: unknown, result: T): T {
    if (error) throw error;
    if (!result) throw new LoginFailure('login_state_invalid', 'the login could not be verified');
    return result;
  }
}
