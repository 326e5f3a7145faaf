import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export { freePort } from './free-port.js';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface RunningProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first parsed JSON log line the predicate accepts. */
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/**
 * Runs one of the project's TypeScript entry points (src/main.ts, scripts/*.ts) as its own Node process, the
 * way the npm scripts do. Only the given variables are set, and ENV_FILE points at an empty file, so neither
 * the test runner's environment nor a developer's .env leaks in.
 */
export function runTypeScript(entry: string, env: Record<string, string>): RunningProcess {
  const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', entry], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ENV_FILE: '/dev/null', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  const onData = () => waiters.splice(0).forEach((wake) => wake());
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    onData();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
    onData();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const parsedLines = () =>
    out.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLog: (predicate, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching log line within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`)),
          timeoutMs,
        );
        const check = () => {
          const match = parsedLines().find(predicate);
          if (match) {
            clearTimeout(timer);
            resolve(match);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            reject(new Error(`process exited with ${child.exitCode}; stdout:\n${out}\nstderr:\n${err}`));
          } else {
            waiters.push(check);
          }
        };
        check();
        void exited.then(() => waiters.splice(0).forEach((wake) => wake()));
      }),
  };
}
