import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { StoredLoginTransaction } from './login-transactions.service.js';
import { LoginsStartedHere } from './logins-started-here.js';

const login = (id: string, startedAtLocal = performance.now()): StoredLoginTransaction => ({
  id,
  provider: 'digidentity',
  purpose: 'login',
  nonce: 'n',
  pkceVerifier: null,
  returnTo: '/',
  accountId: null,
  providerData: {},
  createdAt: new Date(),
  expiresAt: new Date(Date.now() + 600_000),
  startedAtLocal,
  consumedOnCompletion: true,
});
const stateHash = (id: string) => Buffer.from(`state of ${id}`);
const binding = Buffer.from('binding');

describe('LoginsStartedHere', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('hands a login out once; the same state again is a replay', () => {
    const logins = new LoginsStartedHere(10, 600);
    logins.keep(stateHash('a'), login('a'), binding);
    expect(logins.take(stateHash('a'), 'digidentity')).toMatchObject({ kind: 'taken', transaction: { id: 'a' } });
    expect(logins.take(stateHash('a'), 'digidentity')).toEqual({ kind: 'replayed', id: 'a' });
    expect(logins.take(stateHash('b'), 'digidentity')).toEqual({ kind: 'unknown' });
  });

  it('forgets a login when it expires, and one used up another way', () => {
    const now = jest.spyOn(performance, 'now').mockReturnValue(1_000);
    const logins = new LoginsStartedHere(10, 600);
    logins.keep(stateHash('old'), login('old', 1_000), binding);
    logins.keep(stateHash('gone'), login('gone', 2_000), binding);
    logins.keep(stateHash('new'), login('new', 500_000), binding);
    logins.forget('gone');
    now.mockReturnValue(1_000 + 600_000);
    expect(logins.take(stateHash('old'), 'digidentity')).toEqual({ kind: 'unknown' });
    expect(logins.take(stateHash('gone'), 'digidentity')).toEqual({ kind: 'unknown' });
    expect(logins.take(stateHash('new'), 'digidentity')).toMatchObject({ kind: 'taken' });
    expect(logins.count()).toBe(1);
  });

  it('hands out only to a callback of the provider the login was started with, and not once past its lifetime', () => {
    const now = jest.spyOn(performance, 'now').mockReturnValue(1_000);
    const logins = new LoginsStartedHere(10, 600);
    // Stored out of order: a start that waited longer finished after a later one.
    logins.keep(stateHash('later'), login('later', 5_000), binding);
    logins.keep(stateHash('slow'), login('slow', 1_000), binding);
    expect(logins.take(stateHash('later'), 'itsme')).toEqual({ kind: 'unknown' });
    now.mockReturnValue(1_000 + 600_000);
    expect(logins.take(stateHash('slow'), 'digidentity')).toEqual({ kind: 'unknown' });
    expect(logins.take(stateHash('later'), 'digidentity')).toMatchObject({ kind: 'taken' });
  });

  it('keeps at most its capacity, dropping the oldest (their callbacks consume in the database)', () => {
    const logins = new LoginsStartedHere(2, 600);
    for (const id of ['a', 'b', 'c']) logins.keep(stateHash(id), login(id), binding);
    expect(logins.count()).toBe(2);
    expect(logins.take(stateHash('a'), 'digidentity')).toEqual({ kind: 'unknown' });
    expect(logins.take(stateHash('c'), 'digidentity')).toMatchObject({ kind: 'taken' });
  });
});
