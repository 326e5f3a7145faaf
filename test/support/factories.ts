import { NEW_SIGN_IN } from '../../src/sessions/recent-authentication.js';
import type { DataSource } from 'typeorm';
import { Account, type AccountRole, type AccountStatus } from '../../src/accounts/account.entity.js';
import { IdentityLink } from '../../src/identity-links/identity-link.entity.js';
import type { IdentityProvider } from '../../src/common/identity-providers.js';
import { csrfTokenFor } from '../../src/access/session-token.js';
import { SessionsService } from '../../src/sessions/sessions.service.js';
import type { TestApp } from './test-app.js';
import { randomUUID } from 'node:crypto';

/**
 * Test-only shortcuts to the state a login produces. They go through the same services and tables the app
 * uses, never through an HTTP backdoor.
 */
export async function createAccount(
  dataSource: DataSource,
  fields: { displayName?: string; roles?: AccountRole[]; status?: AccountStatus } = {},
): Promise<Account> {
  return dataSource.getRepository(Account).save(
    Object.assign(new Account(), {
      displayName: fields.displayName ?? `Test user ${randomUUID().slice(0, 8)}`,
      roles: fields.roles ?? [],
      status: fields.status ?? 'active',
    }),
  );
}

export async function createLink(
  dataSource: DataSource,
  accountId: string,
  fields: { provider?: IdentityProvider; issuer?: string; subject?: string; attributes?: Record<string, unknown> } = {},
): Promise<IdentityLink> {
  const now = new Date();
  return dataSource.getRepository(IdentityLink).save(
    Object.assign(new IdentityLink(), {
      accountId,
      provider: fields.provider ?? 'digidentity',
      issuer: fields.issuer ?? 'https://auth.digidentity-preproduction.eu',
      subject: fields.subject ?? randomUUID(),
      attributes: fields.attributes ?? {},
      firstLoginAt: now,
      lastLoginAt: now,
    }),
  );
}

export interface SignedIn {
  sessionId: string;
  token: string;
  /** Value for a `Cookie` request header. */
  cookie: string;
  csrfToken: string;
  /** Headers a same-origin browser would send on a state-changing request. */
  writeHeaders: Record<string, string>;
}

export async function signIn(testApp: TestApp, account: Account, link?: IdentityLink): Promise<SignedIn> {
  const issued = await testApp.app.get(SessionsService).create({
    accountId: account.id,
    provider: link?.provider ?? 'digidentity',
    identityLinkId: link?.id ?? null,
    // A login that included a sign-in just now, as a real one would be (NEW_SIGN_IN: it counts as recent).
    authenticatedAt: new Date(),
    authContext: { method: 'test', [NEW_SIGN_IN]: true },
    clientIp: '127.0.0.1',
    userAgent: 'jest',
  });
  const csrfToken = csrfTokenFor(issued.token);
  return {
    sessionId: issued.sessionId,
    token: issued.token,
    cookie: `${testApp.config.session.cookieName}=${issued.token}`,
    csrfToken,
    writeHeaders: { Origin: testApp.config.http.publicBaseUrl.origin, 'X-CSRF-Token': csrfToken },
  };
}

export async function createAdmin(
  testApp: TestApp,
  displayName = 'Admin',
): Promise<{ account: Account; session: SignedIn }> {
  const account = await createAccount(testApp.dataSource, { displayName, roles: ['admin'] });
  return { account, session: await signIn(testApp, account) };
}

export async function auditEvents(
  dataSource: DataSource,
  type?: string,
): Promise<
  Array<{
    type: string;
    details: Record<string, unknown>;
    actor_account_id: string | null;
    subject_account_id: string | null;
    request_id: string | null;
  }>
> {
  return dataSource.query(
    `SELECT type, details, actor_account_id, subject_account_id, request_id FROM audit_events ${type ? 'WHERE type = $1' : ''} ORDER BY seq`,
    type ? [type] : [],
  );
}
