import { HttpException } from '@nestjs/common';
import type { Express, Request } from 'express';

interface RouteLayer {
  matchers: Array<(path: string) => unknown>;
  route?: { methods: Record<string, boolean> };
}

/**
 * Knows which methods the registered routes accept for a path, so that a request with the wrong method gets
 * 405 with an `Allow` header instead of a bare 404.
 */
export class RouteTable {
  private layers?: RouteLayer[];

  constructor(private readonly expressApp: () => Express) {}

  /** Nest answers a request no route matched with exactly this NotFoundException. */
  isUnmatched(exception: HttpException, req: Request): boolean {
    return exception.getStatus() === 404 && exception.message === `Cannot ${req.method} ${req.originalUrl}`;
  }

  allowedMethods(path: string): string[] {
    const methods = new Set<string>();
    for (const layer of this.routeLayers()) {
      if (!layer.matchers.some((match) => match(path))) continue;
      for (const [method, enabled] of Object.entries(layer.route!.methods)) {
        if (enabled && method !== '_all') methods.add(method.toUpperCase());
      }
    }
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }

  private routeLayers(): RouteLayer[] {
    this.layers ??= ((this.expressApp() as unknown as { router: { stack: RouteLayer[] } }).router.stack ?? []).filter(
      (layer) => layer.route !== undefined,
    );
    return this.layers;
  }
}
