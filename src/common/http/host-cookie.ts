import type { CookieOptions } from 'express';

/**
 * A cookie of this portal's own host: the `__Host-` prefix when cookies are Secure (browsers then refuse it unless it
 * is Secure, host-only and Path=/), none with SESSION_COOKIE_SECURE=false (plain http on localhost).
 */
export const hostCookieName = (name: string, secure: boolean): string => (secure ? `__Host-${name}` : name);

/** The attributes every cookie of the portal has: HttpOnly, SameSite=Lax, Path=/, Secure as configured. */
export const hostCookieOptions = (secure: boolean): CookieOptions => ({
  httpOnly: true,
  secure,
  sameSite: 'lax',
  path: '/',
});
