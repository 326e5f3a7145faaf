import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** What the build reads: a change to any of these (an edit, a new or deleted file) means building again. */
const INPUTS = [
  'src',
  'sandbox',
  'migrations',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
];
const STAMP = join('dist', '.build-stamp');

/** The latest modification time under `path` (files and folders: a deleted file changes its folder). */
function newestChange(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestChange(join(path, entry)));
  return newest;
}

/** Whether `root`'s sources changed since its last build (or it was never built). */
export function needsBuild(root = '.') {
  const stamp = join(root, STAMP);
  if (!existsSync(stamp) || !existsSync(join(root, 'dist', 'src', 'main.js'))) return true;
  const built = statSync(stamp).mtimeMs;
  return INPUTS.some((input) => existsSync(join(root, input)) && newestChange(join(root, input)) > built);
}

/**
 * Builds with tsc when a source changed since the last build, and stamps the build with the time it started, so
 * a change made while it ran is built next time. Returns whether it built.
 */
export function buildIfChanged(root = '.') {
  if (!needsBuild(root)) return false;
  const startedAt = new Date();
  const tsc = createRequire(join(process.cwd(), root, 'package.json')).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  writeFileSync(join(root, STAMP), '');
  utimesSync(join(root, STAMP), startedAt, startedAt);
  return true;
}
