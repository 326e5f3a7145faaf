import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Another commit of this repository, checked out beside it and built, for `--against`. */
export interface OtherBuild {
  /** The checkout; `startBackend(…, dir)` runs its dist/. */
  dir: string;
  commit: string;
  /** Removes the checkout; never throws (a failure is reported, `git worktree prune` clears what is left). */
  remove(): Promise<void>;
}

const git = (args: string[], cwd?: string) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/** The commit `revision` names; throws at once for a name git does not know. */
export function commitOf(revision: string): string {
  return git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`]);
}

/**
 * Checks `commit` out in a temporary worktree and builds it. Its dependencies are this checkout's node_modules
 * when both lockfiles are the same, else installed with `npm ci`.
 */
export async function checkOutAndBuild(commit: string): Promise<OtherBuild> {
  const dir = await mkdtemp(join(tmpdir(), 'rmi-bench-against-'));
  const remove = async () => {
    try {
      git(['worktree', 'remove', '--force', dir]);
    } catch (error) {
      console.error(`could not remove the worktree ${dir} (git worktree prune clears it): ${String(error)}`);
      await rm(dir, { recursive: true, force: true });
    }
  };
  try {
    git(['worktree', 'add', '--detach', '--force', dir, commit]);
    const sameLockfile = spawnSync('git', ['diff', '--quiet', commit, '--', 'package-lock.json']).status === 0;
    if (sameLockfile) await symlink(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
    else execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: dir, stdio: 'inherit' });
  } catch (error) {
    await remove();
    throw error;
  }
  return { dir, commit, remove };
}
