import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Another commit of this repository, checked out beside it and built, for `--against`. */
export interface OtherBuild {
  /** The checkout; `startBackend(…, dir)` runs its dist/. */
  dir: string;
  commit: string;
  remove(): void;
}

const git = (args: string[], cwd?: string) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/**
 * Checks `revision` out in a temporary worktree and builds it. Its dependencies are this checkout's node_modules
 * when both lockfiles are the same, else installed with `npm ci`.
 */
export async function checkOutAndBuild(revision: string): Promise<OtherBuild> {
  const commit = git(['rev-parse', '--verify', `${revision}^{commit}`]);
  const dir = await mkdtemp(join(tmpdir(), 'rmi-bench-against-'));
  git(['worktree', 'add', '--detach', '--force', dir, commit]);
  const remove = () => git(['worktree', 'remove', '--force', dir]);
  try {
    const sameLockfile = spawnSync('git', ['diff', '--quiet', commit, '--', 'package-lock.json']).status === 0;
    if (sameLockfile) await symlink(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
    else execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: dir, stdio: 'inherit' });
  } catch (error) {
    remove();
    throw error;
  }
  return { dir, commit, remove };
}
