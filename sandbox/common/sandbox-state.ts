import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The subjects of re-created sandbox accounts, kept in a small JSON file next to the backend's database (see
 * resolveSandboxProviders): the database keeps a re-bound subject across a restart, so the sandbox must too.
 * Without a file (tests), they live in memory.
 */
export interface SubjectStore {
  get(personaId: string): string | undefined;
  set(personaId: string, subject: string): void;
}

export function subjectStore(file: string | undefined, provider: string): SubjectStore {
  const subjects = new Map<string, string>();
  const read = (): Record<string, Record<string, string>> => {
    if (!file) return {};
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
    } catch {
      return {};
    }
  };
  for (const [persona, subject] of Object.entries(read()[provider] ?? {})) subjects.set(persona, subject);
  return {
    get: (personaId) => subjects.get(personaId),
    set: (personaId, subject) => {
      subjects.set(personaId, subject);
      if (!file) return;
      // Several sandboxes share the file: re-read it, change only this provider's part, replace it whole.
      const all = read();
      all[provider] = Object.fromEntries(subjects);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.tmp`, JSON.stringify(all, null, 2));
      renameSync(`${file}.tmp`, file);
    },
  };
}
