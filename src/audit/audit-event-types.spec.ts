import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AUDIT_EVENT } from './audit-event-types.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The app's source, tests and this registry left out. */
function sources(): string {
  const root = join(here, '..');
  return (readdirSync(root, { recursive: true }) as string[])
    .filter((path) => path.endsWith('.ts') && !path.endsWith('.spec.ts') && !path.endsWith('audit-event-types.ts'))
    .map((path) => readFileSync(join(root, path), 'utf8'))
    .join('\n');
}

describe('AUDIT_EVENT', () => {
  it('declares only event types some code records (an unused one promises a record nobody writes)', () => {
    const code = sources();
    const unused = Object.keys(AUDIT_EVENT).filter((key) => !code.includes(`AUDIT_EVENT.${key}`));
    expect(unused).toEqual([]);
  });
});
