/**
 * Where to send the browser after a login: only a path on this site. Anything else — absolute URLs, `//host`,
 * backslashes (browsers read `/\host` as `//host`), control characters, over-long values, paths that normalise to
 * `//host` — falls back to `/`.
 */
export function safeReturnTo(value: unknown, base: URL): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) return '/';
  if (!/^\/([^/\\]|$)/.test(value) || /[\\\p{Cc}]/u.test(value)) return '/';
  try {
    const resolved = new URL(value, base);
    const path = `${resolved.pathname}${resolved.search}${resolved.hash}`;
    // Normalising can turn an innocent-looking path into `//host` (`/.//evil`, `/%2e//evil`): check the result again.
    return resolved.origin === base.origin && /^\/([^/\\]|$)/.test(path) ? path : '/';
  } catch {
    return '/';
  }
}
