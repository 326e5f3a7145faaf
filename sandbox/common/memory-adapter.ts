import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number;
}

/**
 * oidc-provider storage for the sandbox: in memory on purpose (a sandbox forgets everything on restart), without
 * the size cap of the built-in development adapter, so benchmark runs with thousands of logins do not evict state
 * mid-flow. Expired entries are swept every minute.
 */
export interface MemoryStorage {
  factory: (name: string) => Adapter;
  /** The stored payloads of one model (e.g. `Session`), live ones only; changes to them are kept. */
  payloads(name: string): AdapterPayload[];
  /** Deletes the stored payloads of one model that match (e.g. the sign-in sessions of a deleted account). */
  forget(name: string, matches: (payload: AdapterPayload) => boolean): void;
  stop(): void;
}

export function memoryAdapterFactory(): MemoryStorage {
  const stores = new Map<string, Map<string, Entry>>();
  const store = (name: string) => {
    let models = stores.get(name);
    if (!models) stores.set(name, (models = new Map()));
    return models;
  };
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const models of stores.values())
      for (const [id, entry] of models) if (entry.expiresAt <= now) models.delete(id);
  }, 60_000);
  sweep.unref();

  const factory = (name: string): Adapter => {
    const models = store(name);
    const live = (id: string) => {
      const entry = models.get(id);
      if (entry && entry.expiresAt <= Date.now()) models.delete(id);
      return entry && entry.expiresAt > Date.now() ? entry : undefined;
    };
    const findBy = (field: 'uid' | 'userCode', value: string) => {
      for (const [id, entry] of models) if (entry.payload[field] === value && live(id)) return entry.payload;
      return undefined;
    };
    return {
      upsert: async (id, payload, expiresIn) => {
        models.set(id, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY });
      },
      find: async (id) => live(id)?.payload,
      findByUid: async (uid) => findBy('uid', uid),
      findByUserCode: async (userCode) => findBy('userCode', userCode),
      consume: async (id) => {
        const entry = live(id);
        if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => {
        models.delete(id);
      },
      // oidc-provider calls this on each token model's adapter: only that model's entries go. Sweeping every
      // store also dropped the Interaction that carries the old grant's id, so a sign-in as another persona over
      // an existing session ("sign in as someone else") failed with "interaction session not found".
      revokeByGrantId: async (grantId) => {
        for (const [id, entry] of models) if (entry.payload.grantId === grantId) models.delete(id);
      },
    };
  };
  const payloads = (name: string) =>
    [...store(name).values()].filter((entry) => entry.expiresAt > Date.now()).map((entry) => entry.payload);
  const forget = (name: string, matches: (payload: AdapterPayload) => boolean) => {
    const models = store(name);
    for (const [id, entry] of models) if (matches(entry.payload)) models.delete(id);
  };
  return { factory, payloads, forget, stop: () => clearInterval(sweep) };
}
