import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import express from 'express';

/**
 * Express re-parents every request and response (`Object.setPrototypeOf(req, app.request)` in `app.handle`). On
 * Node 20 and 22 (V8 12 and older) a NestJS + Express request measured 0.20 ms of CPU with Node's own request and
 * response, and 0.07 ms when the server builds them on Express's prototypes from the start, so that the swap changes
 * nothing (docs/benchmark.md#express-requests-born-on-expresss-prototypes). On Node 24 (V8 13) Node's own measured
 * the cheaper (0.05 ms), so they are kept there.
 */
export const SWAP_IS_COSTLY = Number(process.versions.v8.split('.')[0]) < 13;

export class ExpressAdapterWithExpressPrototypes extends ExpressAdapter {
  constructor() {
    super(express());
  }

  override initHttpServer(options: NestApplicationOptions): void {
    super.initHttpServer(options);
    if (!SWAP_IS_COSTLY || options.httpsOptions || options.forceCloseConnections) return;
    const app = this.getInstance<express.Express>();
    this.httpServer = createServer(
      {
        IncomingMessage: bornWith(IncomingMessage, app.request),
        ServerResponse: bornWith(ServerResponse, app.response),
      },
      app,
    );
  }
}

/**
 * A constructor that builds `base`'s objects on `prototype`, calling `base` as the function Node 20 and 22 define it
 * as (`Reflect.construct` with this `new.target` measured as slow as Node's own there).
 */
function bornWith<T extends typeof IncomingMessage | typeof ServerResponse>(base: T, prototype: object): T {
  const construct = base as unknown as (this: object, first: unknown, second: unknown) => void;
  function Born(this: object, first: unknown, second: unknown): void {
    construct.call(this, first, second);
  }
  Born.prototype = prototype;
  return Born as unknown as T;
}
