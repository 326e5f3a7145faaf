import { hasControlCharacters } from '../../common/control-characters.js';

const text = (value: unknown, max = 200): string | undefined =>
  typeof value === 'string' && value.trim() !== '' && value.length <= max && !hasControlCharacters(value)
    ? value.trim()
    : undefined;

/**
 * What the portal keeps of an itsme login: the name and the e-mail address. Never the birth date, the national
 * number, ID document data, address or phone, whatever a widened ITSME_SCOPES brings (data minimisation; and
 * nothing that could tempt anyone to match people on it).
 */
export function itsmeAttributes(claims: Record<string, unknown>): Record<string, unknown> {
  const attributes: Record<string, unknown> = {
    name: text(claims.name),
    givenName: text(claims.given_name),
    familyName: text(claims.family_name),
    email: text(claims.email, 320),
    emailVerified: typeof claims.email_verified === 'boolean' ? claims.email_verified : undefined,
  };
  return Object.fromEntries(Object.entries(attributes).filter(([, value]) => value !== undefined));
}

const REVIEW_CLAIMS = new Set(['sub', 'acr', 'name', 'given_name', 'family_name', 'email', 'email_verified']);

/** What a reviewer of a pending identity sees: the same allow-list, under itsme's claim names. */
export function itsmeReviewClaims(claims: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims).filter(([key]) => REVIEW_CLAIMS.has(key)));
}

export function itsmeDisplayName(attributes: Record<string, unknown>): string {
  if (typeof attributes.name === 'string') return attributes.name;
  const parts = [attributes.givenName, attributes.familyName].filter(
    (part): part is string => typeof part === 'string',
  );
  return parts.length > 0 ? parts.join(' ') : 'itsme user';
}
