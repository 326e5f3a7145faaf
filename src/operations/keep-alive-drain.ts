import type { Server } from 'node:http';
import { type BeforeApplicationShutdown, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/**
 * Idle keep-alive connections stay open for HTTP_KEEP_ALIVE_TIMEOUT_MS (a minute): a shutdown must not wait for
 * them. Node closes the connections that are idle when the server stops listening, not those that become idle later;
 * so while the app shuts down, each one is closed as soon as its last response is out.
 */
@Injectable()
export class KeepAliveDrain implements BeforeApplicationShutdown, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  beforeApplicationShutdown(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return;
    this.timer = setInterval(() => {
      if (!server.listening) server.closeIdleConnections();
    }, 50);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
