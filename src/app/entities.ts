import { Account } from '../accounts/account.entity.js';
import { AuditAnchor } from '../audit/audit-anchor.entity.js';
import { AuditEvent } from '../audit/audit-event.entity.js';
import { AuditSeal } from '../audit/audit-seal.entity.js';
import { IdentityLink } from '../identity-links/identity-link.entity.js';
import { LoginStartCounter } from '../login-transactions/login-start-counter.entity.js';
import { LoginTransaction } from '../login-transactions/login-transaction.entity.js';
import { SignOutHint } from '../login-transactions/sign-out-hint.entity.js';
import { RebindRequest } from '../linking/rebind-request.entity.js';
import { PendingIdentity } from '../pending-identities/pending-identity.entity.js';
import { RmiItem } from '../rmi-items/rmi-item.entity.js';
import { SermiAccessRecord } from '../sermi/access-log/sermi-access-record.entity.js';
import { SermiLogAnchor } from '../sermi/access-log/sermi-log-anchor.entity.js';
import { SermiLogSeal } from '../sermi/access-log/sermi-log-seal.entity.js';
import { SermiChainBinding } from '../sermi/chain-binding.entity.js';
import { SermiGrantKey } from '../sermi/grants/grant-key.entity.js';
import { Session } from '../sessions/session.entity.js';
import { ServerSecret } from '../database/server-secret.entity.js';

export const ENTITIES = [
  Account,
  IdentityLink,
  Session,
  AuditEvent,
  AuditSeal,
  AuditAnchor,
  LoginTransaction,
  LoginStartCounter,
  SignOutHint,
  PendingIdentity,
  RmiItem,
  SermiAccessRecord,
  SermiLogSeal,
  SermiLogAnchor,
  SermiChainBinding,
  RebindRequest,
  ServerSecret,
  SermiGrantKey,
];
