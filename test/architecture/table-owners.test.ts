import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../support/spawn-process.js';

/**
 * The file that owns every write to each table (docs/architecture.md#data-access). Reads may join other tables and
 * belong to the repository of the rows they return, so reads are allowed in any owner file, never elsewhere.
 */
const OWNERS: Record<string, string> = {
  accounts: 'accounts/accounts.repository.ts',
  identity_links: 'identity-links/identity-links.repository.ts',
  sessions: 'sessions/sessions.repository.ts',
  pending_identities: 'pending-identities/pending-identities.repository.ts',
  rebind_requests: 'linking/rebind-requests.repository.ts',
  audit_events: 'audit/audit-events.repository.ts',
  login_transactions: 'login-transactions/login-transactions.repository.ts',
  login_start_counters: 'login-transactions/login-start-counters.repository.ts',
  rmi_items: 'rmi-items/rmi-items.repository.ts',
  sermi_access_log: 'sermi/access-log/sermi-access-log.repository.ts',
  sermi_chain_bindings: 'sermi/sermi-chain-bindings.repository.ts',
  sermi_grant_keys: 'sermi/grants/sermi-grant-keys.repository.ts',
  server_secrets: 'database/server-secrets.ts',
  // The seal and anchor tables of both logs are written by the shared sealer, src/common/hash-chain/sealed-log.ts,
  // from each log's description (table names as values): no statement names them literally.
};

const src = join(PROJECT_ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

/** [file, statement kind, table] for every SQL write and read of an owned table outside comments. */
function statements(): Array<{ file: string; kind: 'write' | 'read'; table: string }> {
  const tables = Object.keys(OWNERS).join('|');
  const write = new RegExp(`\\b(?:INSERT INTO|UPDATE|DELETE FROM)\\s+"?(${tables})\\b`, 'g');
  const read = new RegExp(`\\b(?:FROM|JOIN)\\s+"?(${tables})\\b`, 'g');
  return sources(src).flatMap((path) => {
    const file = relative(src, path);
    const code = readFileSync(path, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    return [
      ...[...code.matchAll(write)].map((match) => ({ file, kind: 'write' as const, table: match[1] })),
      ...[...code.matchAll(read)].map((match) => ({ file, kind: 'read' as const, table: match[1] })),
    ];
  });
}

describe('each table', () => {
  const found = statements();

  it('is written only by its repository', () => {
    const strays = found.filter(({ kind, table, file }) => kind === 'write' && OWNERS[table] !== file);
    expect(strays).toEqual([]);
    // The check sees the statements it is about.
    for (const [table, owner] of Object.entries(OWNERS)) {
      expect(found).toContainEqual({ file: owner, kind: 'write', table });
    }
  });

  it('is read only in repositories', () => {
    const owners = new Set(Object.values(OWNERS));
    const strays = found.filter(({ kind, file }) => kind === 'read' && !owners.has(file));
    expect(strays).toEqual([]);
  });
});
