import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { sqlRows } from '../../database/sql.js';
import { canonicalFields, canonicalFieldsSql, utcMicros } from './canonical.js';

/**
 * An insert-only log chained in batches ("seals") instead of row by row, so writing a record takes no lock. Each
 * record carries its writing transaction's id (`txid`, stamped by a trigger); a seal covers every record whose txid
 * lies in [from_txid, to_txid), where to_txid is a horizon below which every transaction of this database has ended
 * (SEAL_HORIZON_SQL) — so no record can appear in a sealed range later. The SERMI access log and the audit trail
 * are two such logs; what differs between them is this description. Format and guarantees: docs/security.md.
 */
export interface SealedLog {
  /** The records' table. */
  records: string;
  /** Its time column (the lag report and a seal's `last_recorded_at`). */
  recordedAt: string;
  /** Every column a record's digest covers, as SQL text, by name (the order is part of the format). */
  fields: readonly (readonly [name: string, expression: string])[];
  /**
   * What the sealer puts in a seal as a record's digest: by default computed from `fields` by Postgres; a log may
   * instead name a digest column its insert trigger stamped (then a change made before sealing is caught as well).
   * The verifier always recomputes the digest in Node from the fields.
   */
  sealedDigestSql?: string;
  /** The seals' and the anchors' tables (same columns for every log, see the SermiAccessControl migration). */
  seals: string;
  anchors: string;
  /** The advisory lock key that lets one sealer at a time append, on any number of instances. */
  sealLock: string;
}

/** A seal holds at most about this many records (more only when one transaction wrote more). */
export const MAX_RECORDS_PER_SEAL = 5000;
export const GENESIS: ChainPosition = { seq: '0', hash: Buffer.alloc(32), toTxid: '0' };

export type RecordRow = Record<string, string | null> & { id: string; txid: string };

const recordFields = (log: SealedLog) => log.fields.map(([name, expression]) => `${expression} AS ${name}`).join(', ');

/** A record's digest, computed here from its fields (the verifier's way: independent of the database's). */
export function recordDigest(log: SealedLog, row: RecordRow): Buffer {
  const fields = log.fields.map(([name]) => row[name]);
  return createHash('sha256').update(canonicalFields(fields), 'utf8').digest();
}

/** The same digest computed by Postgres: sealing thousands of records sends none of them to the app. */
export const recordDigestSql = (log: SealedLog) =>
  `sha256(convert_to(${canonicalFieldsSql(log.fields.map(([, e]) => e))}, 'UTF8'))`;

export interface SealFields {
  seq: string;
  fromTxid: string;
  toTxid: string;
  recordCount: number;
  lastRecordedAt: string;
  prevHash: Buffer;
  digests: Buffer;
}

export function sealHash(seal: SealFields): Buffer {
  return createHash('sha256')
    .update(seal.prevHash)
    .update(
      canonicalFields([seal.seq, seal.fromTxid, seal.toTxid, String(seal.recordCount), seal.lastRecordedAt]),
      'utf8',
    )
    .update(seal.digests)
    .digest();
}

export type LogBreak =
  | 'seal_gap'
  | 'previous_hash_mismatch'
  | 'seal_hash_mismatch'
  | 'record_changed'
  | 'record_missing'
  | 'record_unexpected';

export interface SealedVerification {
  checkedSeals: number;
  checkedRecords: number;
  /** Records not sealed yet (written since the last seal): not covered by this verification. */
  unsealedRecords: number;
  /** The last seal checked (the anchor when there is none), when nothing is broken. */
  head: ChainPosition | null;
  firstBroken: { sealSeq: string; problem: LogBreak; recordId?: string } | null;
}

export interface StoredSeal {
  seq: string;
  from_txid: string;
  to_txid: string;
  record_count: number;
  record_ids: string[];
  record_digests: Buffer;
  last_recorded_at: string;
  prev_hash: Buffer;
  hash: Buffer;
}

export interface ChainPosition {
  seq: string;
  hash: Buffer;
  toTxid: string;
}

/** The last anchor (a retention purge's, or where a log's sealed form began): where the remaining chain starts. */
export async function anchorOf(manager: EntityManager, log: SealedLog): Promise<ChainPosition | null> {
  const [anchor] = await sqlRows<{ seal_seq: string; seal_hash: Buffer; to_txid: string }>(
    manager,
    `SELECT seal_seq, seal_hash, to_txid FROM ${log.anchors} ORDER BY id DESC LIMIT 1`,
  );
  return anchor ? { seq: anchor.seal_seq, hash: anchor.seal_hash, toTxid: anchor.to_txid } : null;
}

/** The last seal, or the last anchor, or the genesis. */
export async function chainEnd(manager: EntityManager, log: SealedLog): Promise<ChainPosition> {
  const [last] = await sqlRows<{ seq: string; hash: Buffer; to_txid: string }>(
    manager,
    `SELECT seq, hash, to_txid FROM ${log.seals} ORDER BY seq DESC LIMIT 1`,
  );
  if (last) return { seq: last.seq, hash: last.hash, toTxid: last.to_txid };
  return (await anchorOf(manager, log)) ?? GENESIS;
}

/**
 * Records written by transactions with ids in [fromTxid, toTxid), in chain order, after `after` when given. The
 * order names the table's columns: the select list's text aliases would sort transaction 1000 before 999.
 */
export function recordsBetween(
  manager: EntityManager,
  log: SealedLog,
  fromTxid: string,
  toTxid: string,
  limit: number,
  after?: { txid: string; id: string },
): Promise<RecordRow[]> {
  const params: unknown[] = [fromTxid, toTxid];
  let keyset = '';
  if (after) {
    params.push(after.txid, after.id);
    keyset = `AND (txid, id) > ($3::bigint, $4::uuid)`;
  }
  return sqlRows<RecordRow>(
    manager,
    `SELECT ${recordFields(log)} FROM ${log.records}
      WHERE txid >= $1::bigint AND txid < $2::bigint ${keyset}
      ORDER BY ${log.records}.txid, ${log.records}.id LIMIT ${limit}`,
    params,
  );
}

/**
 * Where the next seal after `fromTxid` ends, given that every transaction below `horizon` has ended: at
 * `horizon`, or earlier so that a seal holds about MAX_RECORDS_PER_SEAL records — always whole transactions, so one
 * transaction that wrote more is sealed whole. Null when there is nothing to seal.
 */
async function nextSealEnd(
  manager: EntityManager,
  log: SealedLog,
  fromTxid: string,
  horizon: string,
): Promise<string | null> {
  const [{ first, cut }] = await sqlRows<{ first: string | null; cut: string | null }>(
    manager,
    `SELECT (SELECT l.txid FROM ${log.records} l WHERE l.txid >= $1::bigint AND l.txid < $2::bigint
              ORDER BY l.txid, l.id LIMIT 1)::text AS first,
            (SELECT l.txid FROM ${log.records} l WHERE l.txid >= $1::bigint AND l.txid < $2::bigint
              ORDER BY l.txid, l.id OFFSET ${MAX_RECORDS_PER_SEAL} LIMIT 1)::text AS cut`,
    [fromTxid, horizon],
  );
  if (first === null) return null;
  if (cut === null) return horizon;
  return cut === first ? (BigInt(cut) + 1n).toString() : cut;
}

/** sealHash's canonical fields, over the columns of appendSeal's content and its parameters. */
const SEAL_CANONICAL_SQL = canonicalFieldsSql([
  '$1::bigint::text',
  '$2::bigint::text',
  '$3::bigint::text',
  'record_count::text',
  utcMicros('last_recorded_at'),
]);

/**
 * Appends the seal of the records in [fromTxid, toTxid) in one statement, computed by the database: the record
 * digests, their ids and the seal hash (sealHash's formula in SQL), so ids, digests and count come from one
 * snapshot and nothing travels to the app. The verifier recomputes all of it in Node.
 */
async function appendSeal(
  manager: EntityManager,
  log: SealedLog,
  seal: { seq: string; fromTxid: string; toTxid: string; prevHash: Buffer },
): Promise<number> {
  const digest = log.sealedDigestSql ?? recordDigestSql(log);
  const [appended] = await sqlRows<{ record_count: number }>(
    manager,
    `WITH content AS (
       SELECT count(*)::int AS record_count, array_agg(id ORDER BY txid, id) AS record_ids,
              string_agg(${digest}, ''::bytea ORDER BY txid, id) AS record_digests,
              max(${log.recordedAt}) AS last_recorded_at
         FROM ${log.records} WHERE txid >= $2::bigint AND txid < $3::bigint
     )
     INSERT INTO ${log.seals} (seq, from_txid, to_txid, record_count, record_ids, record_digests, last_recorded_at,
                               prev_hash, hash)
     SELECT $1::bigint, $2::bigint, $3::bigint, record_count, record_ids, record_digests, last_recorded_at, $4::bytea,
            sha256($4::bytea || convert_to(${SEAL_CANONICAL_SQL}, 'UTF8') || record_digests)
       FROM content
     RETURNING record_count`,
    [seal.seq, seal.fromTxid, seal.toTxid, seal.prevHash],
  );
  return appended.record_count;
}

/**
 * The sealing horizon: the oldest transaction still running that may write to this database, or the snapshot's xmax
 * when none does. A snapshot's xmin is the oldest transaction of the whole server: one long transaction in another
 * database of it would stop sealing here, although it cannot write these records. So every running transaction of
 * the snapshot is looked up (its lock on its own id names its backend, pg_stat_activity that backend's database; both
 * readable by any role) and those of other databases are left out. A transaction that cannot be placed — it has just
 * ended, or is prepared — counts, which can only hold sealing back a moment, never let a record in behind a seal.
 */
const SEAL_HORIZON_SQL = `
  WITH snapshot AS MATERIALIZED (SELECT pg_current_snapshot() AS s),
       running AS MATERIALIZED (SELECT pg_snapshot_xip(s) AS xid FROM snapshot),
       elsewhere AS (
         SELECT r.xid FROM running r
           JOIN pg_locks l ON l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
                          AND l.transactionid = r.xid::xid
           JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))
  SELECT least((SELECT pg_snapshot_xmax(s) FROM snapshot),
               (SELECT min(xid) FROM running WHERE xid NOT IN (SELECT xid FROM elsewhere)))::text AS horizon,
         (SELECT pg_snapshot_xmin(s) FROM snapshot)::text AS server_horizon`;

export interface Horizons {
  horizon: string;
  serverHorizon: string;
}

export interface SealRun {
  sealed: number;
  /** False when the seal was cut short (MAX_RECORDS_PER_SEAL) and more can be sealed now. */
  reachedHorizon: boolean;
  /** Null when another sealer held the lock. */
  horizons: Horizons | null;
}

/** Appends one seal, in a transaction of its own, unless another sealer is at work (it then seals instead). */
export function sealOnce(dataSource: DataSource, log: SealedLog): Promise<SealRun> {
  return dataSource.transaction(async (manager) => {
    const [{ locked }] = await sqlRows<{ locked: boolean }>(
      manager,
      `SELECT pg_try_advisory_xact_lock(${log.sealLock}) AS locked`,
    );
    if (!locked) return { sealed: 0, reachedHorizon: true, horizons: null };
    const [row] = await sqlRows<{ horizon: string; server_horizon: string }>(manager, SEAL_HORIZON_SQL);
    const horizons = { horizon: row.horizon, serverHorizon: row.server_horizon };
    const nothing = { sealed: 0, reachedHorizon: true, horizons };
    const previous = await chainEnd(manager, log);
    if (BigInt(previous.toTxid) >= BigInt(horizons.horizon)) return nothing;
    const toTxid = await nextSealEnd(manager, log, previous.toTxid, horizons.horizon);
    if (toTxid === null) return nothing;
    const sealed = await appendSeal(manager, log, {
      seq: (BigInt(previous.seq) + 1n).toString(),
      fromTxid: previous.toTxid,
      toTxid,
      prevHash: previous.hash,
    });
    return { sealed, reachedHorizon: toTxid === horizons.horizon, horizons };
  });
}

/** Seals everything that can be sealed now; returns the number of records sealed. */
export async function sealAll(
  dataSource: DataSource,
  log: SealedLog,
  onRun: (run: SealRun) => void = () => undefined,
): Promise<number> {
  let total = 0;
  for (;;) {
    const run = await sealOnce(dataSource, log);
    onRun(run);
    total += run.sealed;
    if (run.sealed === 0 || run.reachedHorizon) return total;
  }
}

/** Unsealed records are counted up to this many: counting millions of them every second would be a load itself. */
export const UNSEALED_COUNT_CAP = 100_000;

/**
 * The records after the chain's end ($1): bounded above as well, by the first transaction id not yet issued (no
 * visible record can lie beyond it). A one-sided `txid >= $1` is estimated to match a third of the table while its
 * statistics lag behind the newest transaction ids, and the planner then reads the whole log to count a tail of a
 * few hundred records — every second, on every instance. A two-sided range is estimated small and uses the index.
 */
const afterChainEnd = (log: SealedLog) =>
  `${log.records}.txid >= $1::bigint AND ${log.records}.txid < pg_snapshot_xmax(pg_current_snapshot())::text::bigint`;

/** Counts the records after the chain's end ($1), at most `cap` of them when given. */
export const unsealedCountSql = (log: SealedLog, cap?: number) =>
  `SELECT count(*)::int FROM (SELECT 1 FROM ${log.records} WHERE ${afterChainEnd(log)}${cap ? ` LIMIT ${cap}` : ''}) tail`;

/** The records after the chain's end ($1): their number (up to UNSEALED_COUNT_CAP) and the oldest one's wait. */
export const unsealedTailSql = (log: SealedLog) =>
  `SELECT (${unsealedCountSql(log, UNSEALED_COUNT_CAP)}) AS unsealed,
          (SELECT greatest(0, extract(epoch FROM clock_timestamp() - ${log.recordedAt}))::float8 FROM ${log.records}
            WHERE ${afterChainEnd(log)} ORDER BY txid, id LIMIT 1) AS lag_seconds`;

/** Committed records after the chain's end (counted up to UNSEALED_COUNT_CAP) and the oldest one's wait. */
export async function unsealedTail(
  manager: EntityManager,
  log: SealedLog,
): Promise<{ unsealed: number; lagSeconds: number; sealedUpToTxid: string }> {
  const end = await chainEnd(manager, log);
  const [row] = await sqlRows<{ unsealed: number; lag_seconds: number | null }>(manager, unsealedTailSql(log), [
    end.toTxid,
  ]);
  return {
    unsealed: row.unsealed,
    lagSeconds: Math.round((row.lag_seconds ?? 0) * 1000) / 1000,
    sealedUpToTxid: end.toTxid,
  };
}

/**
 * Walks the sealed chain from `start` (the last anchor, or the genesis), recomputing every seal's hash and every
 * record's digest here in Node, and reports the first seal or record that does not add up, then counts the
 * records written since the last seal. Reads only.
 */
export async function verifySealedLog(
  manager: EntityManager,
  log: SealedLog,
  start: ChainPosition,
): Promise<SealedVerification> {
  let previous = start;
  let checkedSeals = 0;
  let checkedRecords = 0;
  const result = (firstBroken: SealedVerification['firstBroken'], unsealedRecords: number) => ({
    checkedSeals,
    checkedRecords,
    unsealedRecords,
    head: firstBroken ? null : previous,
    firstBroken,
  });
  // The log's first record (an index probe, whatever the table's size) must not lie before the chain's start.
  const [first] = await sqlRows<{ id: string; txid: string }>(
    manager,
    `SELECT id, txid FROM ${log.records} WHERE txid IS NOT NULL ORDER BY txid, id LIMIT 1`,
  );
  const stale = first && BigInt(first.txid) < BigInt(previous.toTxid) ? first : null;
  if (stale) return result({ sealSeq: previous.seq, problem: 'record_unexpected', recordId: stale.id }, 0);
  for (;;) {
    const seals = await sqlRows<StoredSeal>(
      manager,
      `SELECT seq, from_txid, to_txid, record_count, record_ids::text[] AS record_ids, record_digests,
              ${utcMicros('last_recorded_at')} AS last_recorded_at, prev_hash, hash
         FROM ${log.seals} WHERE seq > $1::bigint ORDER BY seq LIMIT 50`,
      [previous.seq],
    );
    for (const seal of seals) {
      const broken = await checkSeal(manager, log, seal, previous);
      if (broken) return result({ sealSeq: seal.seq, ...broken }, 0);
      previous = { seq: seal.seq, hash: seal.hash, toTxid: seal.to_txid };
      checkedSeals += 1;
      checkedRecords += seal.record_count;
    }
    if (seals.length < 50) break;
  }
  const [{ unsealed }] = await sqlRows<{ unsealed: number }>(manager, `SELECT (${unsealedCountSql(log)}) AS unsealed`, [
    previous.toTxid,
  ]);
  return result(null, unsealed);
}

async function checkSeal(
  manager: EntityManager,
  log: SealedLog,
  seal: StoredSeal,
  previous: ChainPosition,
): Promise<{ problem: LogBreak; recordId?: string } | null> {
  if (BigInt(seal.seq) !== BigInt(previous.seq) + 1n || seal.from_txid !== previous.toTxid) {
    return { problem: 'seal_gap' };
  }
  if (!seal.prev_hash.equals(previous.hash)) return { problem: 'previous_hash_mismatch' };
  const fields: SealFields = {
    seq: seal.seq,
    fromTxid: seal.from_txid,
    toTxid: seal.to_txid,
    recordCount: seal.record_count,
    lastRecordedAt: seal.last_recorded_at,
    prevHash: seal.prev_hash,
    digests: seal.record_digests,
  };
  if (!sealHash(fields).equals(seal.hash)) return { problem: 'seal_hash_mismatch' };
  const expected = new Set(seal.record_ids);
  let position = 0;
  let after: { txid: string; id: string } | undefined;
  for (;;) {
    const rows = await recordsBetween(manager, log, seal.from_txid, seal.to_txid, MAX_RECORDS_PER_SEAL, after);
    for (const row of rows) {
      const expectedId = seal.record_ids[position];
      if (row.id !== expectedId) {
        return expected.has(row.id)
          ? { problem: 'record_missing', recordId: expectedId }
          : { problem: 'record_unexpected', recordId: row.id };
      }
      const digest = seal.record_digests.subarray(position * 32, position * 32 + 32);
      if (!recordDigest(log, row).equals(digest)) return { problem: 'record_changed', recordId: row.id };
      position += 1;
    }
    if (rows.length < MAX_RECORDS_PER_SEAL) break;
    after = { txid: rows.at(-1)!.txid, id: rows.at(-1)!.id };
  }
  if (position < seal.record_count) return { problem: 'record_missing', recordId: seal.record_ids[position] };
  return null;
}
