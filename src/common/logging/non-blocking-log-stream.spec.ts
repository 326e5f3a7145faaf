import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NonBlockingLogStream } from './non-blocking-log-stream.js';

/** A real pipe (a FIFO) whose reader reads only when the test says so. */
describe('NonBlockingLogStream on a pipe nobody reads', () => {
  let dir: string;
  let writeFd: number;
  let readFd: number;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rmi-log-pipe-'));
    const fifo = join(dir, 'log');
    execFileSync('mkfifo', [fifo]);
    readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    writeFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  });
  afterEach(() => {
    closeSync(writeFd);
    closeSync(readFd);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Reads what the pipe holds until `done` says so, giving the stream's writes time to land. */
  async function readUntil(done: (text: string) => boolean): Promise<string> {
    const buffer = Buffer.alloc(64 * 1024);
    let text = '';
    for (let attempt = 0; attempt < 500 && !done(text); attempt += 1) {
      try {
        const read = readSync(readFd, buffer, 0, buffer.length, null);
        text += buffer.subarray(0, read).toString('utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    return text;
  }

  const line = (i: number) => `${JSON.stringify({ level: 'info', n: i, msg: 'x'.repeat(80) })}\n`;

  it('never waits for the reader: beyond its buffer it drops lines, counts them, and says so once the reader catches up', async () => {
    const stream = new NonBlockingLogStream(writeFd, 100_000);
    let refused = 0;
    for (let i = 0; i < 5000; i += 1) if (!stream.write(line(i))) refused += 1;
    // 500 kB offered to a 64 kB pipe and a 100 kB buffer: most of it cannot be kept.
    expect(refused).toBeGreaterThan(3000);
    expect(stream.droppedLines).toBe(refused);
    expect(stream.bufferedBytes).toBeLessThanOrEqual(100_000);

    // Read everything (the stream must hold nothing more before its pipe is closed and the descriptor reused).
    const text = await readUntil((t) => t.includes('log lines dropped') && stream.bufferedBytes === 0);
    const lines = text.split('\n').filter(Boolean);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const notice = records.find((r) => r.msg === 'log lines dropped: the log reader did not keep up');
    expect(notice).toMatchObject({ level: 'warn', droppedLines: refused, droppedLinesTotal: refused });
    // What was kept arrives whole and in order.
    const kept = records.filter((r) => typeof r.n === 'number').map((r) => r.n as number);
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    expect(kept[0]).toBe(0);
  });

  it('flushes what it holds once the reader reads, and gives up on a flush at its deadline otherwise', async () => {
    const stream = new NonBlockingLogStream(writeFd, 1_000_000);
    for (let i = 0; i < 2000; i += 1) stream.write(line(i));
    expect(stream.bufferedBytes).toBeGreaterThan(0);
    // Nobody reads: the flush ends at its deadline with lines still buffered.
    await stream.flush(50);
    expect(stream.bufferedBytes).toBeGreaterThan(0);

    const flushed = stream.flush(10_000);
    const text = await readUntil((t) => t.includes(`"n":1999`));
    await flushed;
    expect(stream.bufferedBytes).toBe(0);
    expect(stream.droppedLines).toBe(0);
    expect(text.split('\n').filter(Boolean)).toHaveLength(2000);
  });
});
