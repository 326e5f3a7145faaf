import type { Request } from 'express';
import { Strategy } from 'passport';

type Done = (error: unknown, result?: unknown) => void;

/**
 * The base of the provider strategies: Passport calls `authenticate(req)`, the Nest subclass's `validate(req)` does
 * the provider's checks and returns the verified login (or throws a LoginFailure). Redirects to the provider are
 * issued by the controllers, not here, so Passport never leaves a request hanging.
 */
export class RequestStrategy extends Strategy {
  constructor(private readonly verify: (req: Request, done: Done) => void) {
    super();
  }

  override authenticate(req: Request): void {
    this.verify(req, (error, result) => (error ? this.error(error) : this.success(result as Express.User)));
  }
}
