import { Initial1795321696727 } from './1795321696727-Initial.js';
import { AuditTrail1795321700000 } from './1795321700000-AuditTrail.js';
import { IdentityPersonKey1795325945875 } from './1795325945875-IdentityPersonKey.js';
import { SermiAccessControl1796154697582 } from './1796154697582-SermiAccessControl.js';
import { SermiAccessLogGuards1796154700000 } from './1796154700000-SermiAccessLogGuards.js';
import { AccountLinking1796160361472 } from './1796160361472-AccountLinking.js';
import { AuditDigestUtf8Lengths1796173775889 } from './1796173775889-AuditDigestUtf8Lengths.js';
import { ChainAuthorisationBinding1796318573696 } from './1796318573696-ChainAuthorisationBinding.js';
import { LoginStartLimits1796318964482 } from './1796318964482-LoginStartLimits.js';
import { ServerSecrets1796319200088 } from './1796319200088-ServerSecrets.js';
import { SermiGrantKeys1796320078345 } from './1796320078345-SermiGrantKeys.js';
import { SessionRetention1796323556217 } from './1796323556217-SessionRetention.js';
import { AuditSealedBatches1796330569106 } from './1796330569106-AuditSealedBatches.js';
import { UnloggedLoginState1796376240314 } from './1796376240314-UnloggedLoginState.js';
import { SealedLogGuards1796390000000 } from './1796390000000-SealedLogGuards.js';
import { SessionsWithoutAbsoluteExpiryIndex1796400000000 } from './1796400000000-SessionsWithoutAbsoluteExpiryIndex.js';
import { SignOutHints1796504358615 } from './1796504358615-SignOutHints.js';
import { AuditDigestInPlpgsql1796600000000 } from './1796600000000-AuditDigestInPlpgsql.js';
import { ForgetSessionIdTokens1796600100000 } from './1796600100000-ForgetSessionIdTokens.js';

/**
 * Every migration, oldest first. Listed explicitly (not found by a glob) so the same list works from source, from
 * the build and inside the test runner; `npm run migration:generate` appends new ones, and a test checks that
 * this list and the folder agree.
 */
export const MIGRATIONS = [
  Initial1795321696727,
  AuditTrail1795321700000,
  IdentityPersonKey1795325945875,
  SermiAccessControl1796154697582,
  SermiAccessLogGuards1796154700000,
  AccountLinking1796160361472,
  AuditDigestUtf8Lengths1796173775889,
  ChainAuthorisationBinding1796318573696,
  LoginStartLimits1796318964482,
  ServerSecrets1796319200088,
  SermiGrantKeys1796320078345,
  SessionRetention1796323556217,
  AuditSealedBatches1796330569106,
  UnloggedLoginState1796376240314,
  SealedLogGuards1796390000000,
  SessionsWithoutAbsoluteExpiryIndex1796400000000,
  SignOutHints1796504358615,
  AuditDigestInPlpgsql1796600000000,
  ForgetSessionIdTokens1796600100000,
];
