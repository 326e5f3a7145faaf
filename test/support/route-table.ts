import { randomUUID } from 'node:crypto';
import type { TestApp } from './test-app.js';

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** Every route the app serves, as `METHOD /path/:param`, from Express's own router. */
export function routeTable(t: TestApp): string[] {
  const router = (t.app.getHttpAdapter().getInstance() as { router: { stack: RouteLayer[] } }).router;
  return router.stack.flatMap((layer) =>
    layer.route
      ? Object.entries(layer.route.methods)
          .filter(([method, enabled]) => enabled && method !== '_all')
          .map(([method]) => `${method.toUpperCase()} ${layer.route!.path}`)
      : [],
  );
}

/** A route's path with its parameters filled in: `values` by name, a fresh UUID for any other. */
export const concretePath = (path: string, values: Record<string, string> = {}) =>
  path.replace(/:(\w+)/g, (_, name: string) => values[name] ?? randomUUID());
