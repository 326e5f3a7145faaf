/**
 * Whether an address of this site is in the admin area (the console, the admin API): to finish a login there through
 * a page of ours, and to keep the sign-in page from carrying another site's way into it. Only for those: the session
 * guard decides by each route's metadata (inAdminArea), and an address this misses ends on the page that offers to
 * open it from here.
 */
export function pathInAdminArea(url: string, base: URL): boolean {
  let resolved: URL;
  try {
    resolved = new URL(url, base);
  } catch {
    return false;
  }
  return resolved.origin === base.origin && /^\/(console|api\/admin)(?=\/|$)/i.test(resolved.pathname);
}
