import type { Account } from './account.entity.js';
import type { IdentityLink } from '../identity-links/identity-link.entity.js';
import type { AccountDto, IdentityLinkDto } from './dto/account.dto.js';

export function toAccountDto(
  account: Pick<Account, 'id' | 'displayName' | 'status' | 'roles' | 'createdAt' | 'updatedAt'>,
): AccountDto {
  return {
    id: account.id,
    displayName: account.displayName,
    status: account.status,
    roles: account.roles,
    createdAt: account.createdAt.toISOString(),
    updatedAt: account.updatedAt.toISOString(),
  };
}

/** Shows the start and end of a subject: enough for the holder to recognise it, useless to anyone else. */
export function maskSubject(subject: string): string {
  if (subject.length <= 8) return '•'.repeat(subject.length);
  return `${subject.slice(0, 4)}…${subject.slice(-4)}`;
}

export function toIdentityLinkDto(link: IdentityLink, options: { maskSubject: boolean }): IdentityLinkDto {
  return {
    id: link.id,
    provider: link.provider,
    issuer: link.issuer,
    subject: options.maskSubject ? maskSubject(link.subject) : link.subject,
    attributes: link.attributes,
    firstLoginAt: link.firstLoginAt.toISOString(),
    lastLoginAt: link.lastLoginAt.toISOString(),
  };
}
