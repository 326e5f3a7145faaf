import { LoginFailure } from '../../common/problem/login-failure.js';
import { unstorable } from '../../database/sql.js';

const WHY = {
  nul: 'contains a NUL character',
  lone_surrogate: 'contains a broken character (a lone UTF-16 surrogate)',
  too_deep: 'nests too deep',
} as const;

/**
 * Refuses (`userinfo_invalid`) a provider's answer that Postgres could not store as it is — a NUL character, a lone
 * surrogate, nesting deeper than any genuine answer — before it is mapped or stored: a refused login, not a failed
 * statement or a JSON.stringify overflow later (an `internal_error`).
 */
export function refuseUnstorable(providerName: string, answer: unknown, transaction: { id: string }): void {
  const problem = unstorable(answer);
  if (problem) {
    throw new LoginFailure('userinfo_invalid', `the ${providerName} answer ${WHY[problem]}`, {
      reason: problem,
      loginTransactionId: transaction.id,
    });
  }
}
