import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain ESM script without types
import { needsBuild } from '../../scripts/build-if-changed.mjs';

/** `npm start` builds only when a source changed since the last build. */
describe('the start script', () => {
  let root: string;
  const at = (path: string, seconds: number) => utimesSync(join(root, path), seconds, seconds);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'rmi-start-'));
    for (const folder of ['src/auth', 'sandbox', 'migrations', 'dist/src'])
      mkdirSync(join(root, folder), { recursive: true });
    for (const file of ['src/main.ts', 'src/auth/login.ts', 'sandbox/a.ts', 'migrations/index.ts', 'package.json'])
      writeFileSync(join(root, file), '');
    writeFileSync(join(root, 'dist/src/main.js'), '');
    for (const path of ['src', 'src/auth', 'src/main.ts', 'src/auth/login.ts', 'sandbox', 'sandbox/a.ts'])
      at(path, 1_000);
    for (const path of ['migrations', 'migrations/index.ts', 'package.json']) at(path, 1_000);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const stampAt = (seconds: number) => {
    writeFileSync(join(root, 'dist/.build-stamp'), '');
    at('dist/.build-stamp', seconds);
  };

  it('builds when never built, and not again while nothing changed', () => {
    expect(needsBuild(root)).toBe(true);
    stampAt(2_000);
    expect(needsBuild(root)).toBe(false);
  });

  it('builds again after an edit, a new file or a deleted file', () => {
    stampAt(2_000);
    at('src/auth/login.ts', 3_000);
    expect(needsBuild(root)).toBe(true);

    at('src/auth/login.ts', 1_000);
    writeFileSync(join(root, 'sandbox/b.ts'), '');
    expect(needsBuild(root)).toBe(true);

    rmSync(join(root, 'sandbox/b.ts'));
    at('sandbox', 1_000);
    expect(needsBuild(root)).toBe(false);
    rmSync(join(root, 'src/auth/login.ts'));
    expect(needsBuild(root)).toBe(true);
  });

  it('builds when the built app is missing', () => {
    stampAt(2_000);
    rmSync(join(root, 'dist/src/main.js'));
    expect(needsBuild(root)).toBe(true);
  });
});
