import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { AdapterPayload } from 'oidc-provider';
import { memoryAdapterFactory, type MemoryStorage } from '../../sandbox/common/memory-adapter.js';

describe('the sandbox providers’ memory storage', () => {
  let storage: MemoryStorage;
  beforeEach(() => {
    storage = memoryAdapterFactory();
  });
  afterEach(() => storage.stop());

  it('finds a sign-in session by its uid until it is destroyed, and again after its id changed', async () => {
    const sessions = storage.factory('Session');
    await sessions.upsert('first-id', { uid: 'uid-1', accountId: 'alice' }, 60);
    await sessions.upsert('other-id', { uid: 'uid-2', accountId: 'bob' }, 60);
    expect(await sessions.findByUid('uid-1')).toMatchObject({ accountId: 'alice' });

    // oidc-provider's resetIdentifier: the old id is destroyed, the same session saved under a new one
    await sessions.destroy('first-id');
    expect(await sessions.findByUid('uid-1')).toBeUndefined();
    await sessions.upsert('second-id', { uid: 'uid-1', accountId: 'alice', loginTs: 1 }, 60);
    expect(await sessions.findByUid('uid-1')).toMatchObject({ loginTs: 1 });
    expect(await sessions.find('first-id')).toBeUndefined();
    expect(await sessions.findByUid('uid-2')).toMatchObject({ accountId: 'bob' });
  });

  it('forgets a session’s uid when it is replaced, forgotten, revoked or expired', async () => {
    const sessions = storage.factory('Session');
    await sessions.upsert('id-1', { uid: 'old-uid', accountId: 'alice' }, 60);
    await sessions.upsert('id-1', { uid: 'new-uid', accountId: 'alice' }, 60);
    expect(await sessions.findByUid('old-uid')).toBeUndefined();
    expect(await sessions.findByUid('new-uid')).toMatchObject({ accountId: 'alice' });

    storage.forget('Session', (session) => session.accountId === 'alice');
    expect(await sessions.findByUid('new-uid')).toBeUndefined();

    await sessions.upsert('id-2', { uid: 'granted', grantId: 'grant-1' }, 60);
    await sessions.revokeByGrantId('grant-1');
    expect(await sessions.findByUid('granted')).toBeUndefined();

    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    try {
      await sessions.upsert('id-3', { uid: 'short' }, 5);
      clock.mockReturnValue(now + 4_999);
      expect(await sessions.findByUid('short')).toBeDefined();
      clock.mockReturnValue(now + 5_000);
      expect(await sessions.findByUid('short')).toBeUndefined();
    } finally {
      clock.mockRestore();
    }
  });

  it('keeps each model’s entries apart', async () => {
    await storage.factory('Session').upsert('same-id', { uid: 'uid-1' }, 60);
    await storage.factory('DeviceCode').upsert('same-id', { userCode: 'ABCD-EFGH' }, 60);
    expect(await storage.factory('Session').findByUserCode('ABCD-EFGH')).toBeUndefined();
    expect(await storage.factory('DeviceCode').findByUserCode('ABCD-EFGH')).toBeDefined();
    expect(await storage.factory('DeviceCode').findByUid('uid-1')).toBeUndefined();
  });

  it('looks a session up by its uid without reading the other sessions', async () => {
    const sessions = storage.factory('Session');
    let uidReads = 0;
    const counted = (uid: string): AdapterPayload => {
      const payload: AdapterPayload = {};
      Object.defineProperty(payload, 'uid', { enumerable: true, get: () => (uidReads++, uid) });
      return payload;
    };
    for (let i = 0; i < 1_000; i++) await sessions.upsert(`id-${i}`, counted(`uid-${i}`), 60);
    uidReads = 0;
    expect(await sessions.findByUid('uid-500')).toBeDefined();
    expect(await sessions.findByUid('no-such-uid')).toBeUndefined();
    expect(uidReads).toBeLessThanOrEqual(2);
  });
});
