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

/** The fields oidc-provider looks entries up by, besides their id. */
const LOOKUP_FIELDS = ['uid', 'userCode'] as const;
type LookupField = (typeof LOOKUP_FIELDS)[number];

/**
 * One model's entries, with an index per lookup field: the token and user-info endpoints look the sign-in session
 * up by its uid on every call, and a benchmark run keeps over ten thousand sessions (a scan slowed the bench's own
 * process, which plays the provider for both systems and sets their login rate, the longer a run went).
 */
class ModelEntries {
  readonly entries = new Map<string, Entry>();
  private readonly indexes = new Map<LookupField, Map<unknown, Set<string>>>(
    LOOKUP_FIELDS.map((field) => [field, new Map()]),
  );

  set(id: string, entry: Entry) {
    this.delete(id);
    this.entries.set(id, entry);
    for (const [field, index] of this.indexes) {
      const value = entry.payload[field];
      if (value === undefined) continue;
      let ids = index.get(value);
      if (!ids) index.set(value, (ids = new Set()));
      ids.add(id);
    }
  }

  delete(id: string) {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    for (const [field, index] of this.indexes) {
      const ids = index.get(entry.payload[field]);
      ids?.delete(id);
      if (ids?.size === 0) index.delete(entry.payload[field]);
    }
  }

  /** The entry, unless it expired (then it is deleted). */
  live(id: string): Entry | undefined {
    const entry = this.entries.get(id);
    if (entry && entry.expiresAt <= Date.now()) this.delete(id);
    return entry && entry.expiresAt > Date.now() ? entry : undefined;
  }

  findBy(field: LookupField, value: string): AdapterPayload | undefined {
    for (const id of this.indexes.get(field)?.get(value) ?? []) {
      const entry = this.live(id);
      if (entry?.payload[field] === value) return entry.payload;
    }
    return undefined;
  }

  deleteWhere(matches: (entry: Entry) => boolean) {
    for (const [id, entry] of this.entries) if (matches(entry)) this.delete(id);
  }
}

export function memoryAdapterFactory(): MemoryStorage {
  const stores = new Map<string, ModelEntries>();
  const store = (name: string) => {
    let models = stores.get(name);
    if (!models) stores.set(name, (models = new ModelEntries()));
    return models;
  };
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const models of stores.values()) models.deleteWhere((entry) => entry.expiresAt <= now);
  }, 60_000);
  sweep.unref();

  const factory = (name: string): Adapter => {
    const models = store(name);
    return {
      upsert: async (id, payload, expiresIn) => {
        models.set(id, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY });
      },
      find: async (id) => models.live(id)?.payload,
      findByUid: async (uid) => models.findBy('uid', uid),
      findByUserCode: async (userCode) => models.findBy('userCode', userCode),
      consume: async (id) => {
        const entry = models.live(id);
        if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => {
        models.delete(id);
      },
      // oidc-provider calls this on each token model's adapter: only that model's entries go. Sweeping every
      // store also dropped the Interaction that carries the old grant's id, so a sign-in as another persona over
      // an existing session ("sign in as someone else") failed with "interaction session not found".
      revokeByGrantId: async (grantId) => {
        models.deleteWhere((entry) => entry.payload.grantId === grantId);
      },
    };
  };
  const payloads = (name: string) =>
    [...store(name).entries.values()].filter((entry) => entry.expiresAt > Date.now()).map((entry) => entry.payload);
  const forget = (name: string, matches: (payload: AdapterPayload) => boolean) =>
    store(name).deleteWhere((entry) => matches(entry.payload));
  return { factory, payloads, forget, stop: () => clearInterval(sweep) };
}
