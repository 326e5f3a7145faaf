import { Injectable } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { clientMeta } from '../../common/http/client-meta.js';
import { RequestStrategy } from '../../auth/request-strategy.js';
import type { VerifiedLogin } from '../../auth/verified-login.js';
import { BrowserBinding } from '../../login-transactions/browser-binding.js';
import { LoginFailure } from '../../common/problem/login-failure.js';
import { SignicatEherkenningLoginService } from './signicat-eherkenning-login.service.js';

/** Callback: checks the session id and Signicat's session, yields the VerifiedLogin (strategy `signicat-eherkenning`). */
@Injectable()
export class SignicatEherkenningStrategy extends PassportStrategy(RequestStrategy, 'signicat-eherkenning') {
  constructor(
    private readonly logins: SignicatEherkenningLoginService,
    private readonly binding: BrowserBinding,
  ) {
    super();
  }

  validate(req: Request): Promise<VerifiedLogin> {
    return this.logins.completeCallback(String(req.params.outcome), req, this.binding.read(req), clientMeta(req));
  }
}

/** Lets the strategy's LoginFailure through as it is, instead of Passport's generic 401. */
@Injectable()
export class SignicatEherkenningGuard extends AuthGuard('signicat-eherkenning') {
  override handleRequest<T>(error: unknown, result: T): T {
    if (error) throw error;
    if (!result) throw new LoginFailure('login_state_invalid', 'the login could not be verified');
    return result;
  }
}
