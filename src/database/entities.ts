import { Account } from '../accounts/account.entity.js';
import { AuditEvent } from '../audit/audit-event.entity.js';
import { IdentityLink } from '../identity-links/identity-link.entity.js';
import { LoginTransaction } from '../login-transactions/login-transaction.entity.js';
import { PendingIdentity } from '../pending-identities/pending-identity.entity.js';
import { Session } from '../sessions/session.entity.js';

export const ENTITIES = [Account, IdentityLink, Session, AuditEvent, LoginTransaction, PendingIdentity];
