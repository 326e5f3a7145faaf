import { write } from 'node:fs';

/** Most bytes written to the file descriptor in one call. */
const MAX_CHUNK_BYTES = 64 * 1024;
/** How long to wait before trying again when the reader has not made room (EAGAIN). */
const RETRY_MS = 20;

/**
 * Where the process's log lines go: a file descriptor (stdout) written asynchronously from a bounded buffer, so a
 * log reader that stalls or falls behind (a full pipe) can never stop the event loop — pino's synchronous stdout
 * waits for the pipe in `Atomics.wait`, which froze request handling and even the shutdown timer. When the buffer
 * is full, lines are dropped and counted, never waited for; once the reader catches up, one line says how many
 * were lost. No exit handler flushes it synchronously: shutdown calls flush() with a deadline instead.
 */
export class NonBlockingLogStream {
  private readonly queue: string[] = [];
  private queuedBytes = 0;
  /** The chunk being written (what is left of it after partial writes). */
  private pending: Buffer | null = null;
  private droppedSinceReported = 0;
  private droppedTotal = 0;
  private broken = false;
  private readonly drained: Array<() => void> = [];

  constructor(
    private readonly fd: number,
    private readonly maxBufferedBytes = 4 * 1024 * 1024,
    private readonly service = 'rmi-identity-backend',
  ) {}

  /** Lines lost since the process started (a full buffer, or a reader that went away). */
  get droppedLines(): number {
    return this.droppedTotal;
  }

  /** Bytes waiting to be written. */
  get bufferedBytes(): number {
    return this.queuedBytes + (this.pending?.length ?? 0);
  }

  write(line: string): boolean {
    if (this.broken || this.bufferedBytes + line.length > this.maxBufferedBytes) {
      this.droppedSinceReported += 1;
      this.droppedTotal += 1;
      return false;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    if (!this.pending) this.next();
    return true;
  }

  /** Resolves once everything buffered is written, or after `timeoutMs`, whichever comes first. Never blocks. */
  flush(timeoutMs: number): Promise<void> {
    if (this.bufferedBytes === 0 || this.broken) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.drained.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private next(): void {
    if (this.queue.length === 0) {
      this.pending = null;
      this.drained.splice(0).forEach((resolve) => resolve());
      return;
    }
    let chunk = '';
    while (this.queue.length > 0 && (chunk.length === 0 || chunk.length + this.queue[0].length <= MAX_CHUNK_BYTES)) {
      chunk += this.queue.shift();
    }
    this.queuedBytes -= chunk.length;
    this.pending = Buffer.from(chunk, 'utf8');
    this.writePending();
  }

  private writePending(): void {
    const buffer = this.pending!;
    write(this.fd, buffer, 0, buffer.length, null, (error, written) => {
      if (error) {
        if (error.code === 'EAGAIN') {
          setTimeout(() => this.writePending(), RETRY_MS).unref();
          return;
        }
        // The reader is gone (EPIPE, a closed descriptor): nothing will be read again.
        this.broken = true;
        this.droppedTotal += this.queue.length + 1;
        this.queue.length = 0;
        this.queuedBytes = 0;
        this.pending = null;
        this.drained.splice(0).forEach((resolve) => resolve());
        return;
      }
      if (written < buffer.length) {
        this.pending = buffer.subarray(written);
        this.writePending();
        return;
      }
      if (this.droppedSinceReported > 0) this.reportDropped();
      this.next();
    });
  }

  private reportDropped(): void {
    const dropped = this.droppedSinceReported;
    this.droppedSinceReported = 0;
    const line = JSON.stringify({
      level: 'warn',
      time: new Date().toISOString(),
      service: this.service,
      droppedLines: dropped,
      droppedLinesTotal: this.droppedTotal,
      msg: 'log lines dropped: the log reader did not keep up',
    });
    this.queue.unshift(`${line}\n`);
    this.queuedBytes += line.length + 1;
  }
}
