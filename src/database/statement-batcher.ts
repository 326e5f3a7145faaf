/**
 * A batcher for a hot statement (session lookups, decision records): `fetch` reads or writes the rows of a batch in
 * any order, and each call gets the row whose `keys.row` is its `keys.input` (undefined when there is none). Under
 * load a statement lingers up to `lingerMs` (DATABASE_BATCH_LINGER_MS) for 16 calls: from 4 calls per `lingerMs` on,
 * about 270 a second at the default 15 ms; 0 never lingers. Measured with `npm run bench -- --instances 3 --only
 * instances` and `--only steady` (docs/benchmark.md#several-instances-batching-that-holds-up).
 */
export function hotStatementBatcher<I, R>(
  lingerMs: number,
  fetch: (inputs: I[]) => Promise<R[]>,
  keys: { input: (input: I) => string; row: (row: R) => string },
  options: { onStatement?: (calls: number) => void; retryAlone?: (error: unknown) => boolean } = {},
): StatementBatcher<I, R | undefined> {
  return new StatementBatcher(
    async (inputs) => {
      const byKey = new Map((await fetch(inputs)).map((row) => [keys.row(row), row]));
      return inputs.map((input) => byKey.get(keys.input(input)));
    },
    { maxBatch: 200, maxInFlight: 2, ...(lingerMs > 0 ? { linger: { batch: 16, ms: lingerMs } } : {}), ...options },
  );
}

/**
 * Coalesces concurrent calls into one database statement. Calls go out at the end of the current event-loop turn
 * (setImmediate: after the turn's other I/O callbacks, never on a timer), together with every call made in that
 * turn, up to `maxBatch`; a call made while `maxInFlight` statements are running waits for one of them and then
 * goes out with everything that queued meanwhile. Under load one round trip serves many requests: the fifty
 * requests one database answer releases at once reach the next statement together, instead of the first one or
 * two going out alone. Each call still gets its own answer, read from the database when its statement ran — nothing is
 * cached. `run` answers the inputs in order; when it fails, every call of that batch fails with its error — unless
 * `retryAlone(error)` says the error may be one input's fault (bad data): then each input of the batch runs on its
 * own, so one bad input cannot fail the others.
 *
 * `linger` (optional) trades a little latency for fewer statements when calls come fast: while the last `ms`
 * brought at least a quarter of a `batch` of calls, a statement waits until `batch` calls have queued or the oldest has
 * waited `ms`. Several instances on one database each see a share of the load; without lingering their batches
 * shrink with that share and the database runs more statements (and commits) per call. A slower stream of calls
 * never waits: each goes out at the end of its turn as before.
 */
export class StatementBatcher<I, O> {
  private queue: { input: I; resolve: (output: O) => void; reject: (error: unknown) => void; at: number }[] = [];
  private inFlight = 0;
  private flushScheduled = false;
  private lingering: NodeJS.Timeout | null = null;
  /** Calls counted in the current `linger.ms` window (since `start`), and in the one before it. */
  private arrivals = { start: 0, current: 0, previous: 0 };

  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly options: {
      maxBatch: number;
      maxInFlight: number;
      retryAlone?: (error: unknown) => boolean;
      linger?: { batch: number; ms: number };
      /** Told the number of calls of every statement sent (a metric). */
      onStatement?: (calls: number) => void;
    },
  ) {
    if (!(options.maxBatch >= 1 && options.maxInFlight >= 1)) throw new Error('maxBatch and maxInFlight must be ≥ 1');
    const { linger } = options;
    if (linger && !(linger.batch >= 2 && linger.batch <= options.maxBatch && linger.ms > 0)) {
      throw new Error('linger.batch must be 2..maxBatch and linger.ms above 0');
    }
  }

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const at = performance.now();
      this.queue.push({ input, resolve, reject, at });
      if (this.options.linger) this.countArrival(at, this.options.linger.ms);
      if (this.lingering && this.queue.length >= this.options.linger!.batch) {
        clearTimeout(this.lingering);
        this.lingering = null;
        this.flushScheduled = false;
      }
      this.scheduleFlush();
    });
  }

  private countArrival(at: number, windowMs: number): void {
    const elapsed = at - this.arrivals.start;
    if (elapsed >= windowMs) {
      // A gap of a whole window or more means the window before this one saw nothing.
      this.arrivals = { start: at, current: 0, previous: elapsed < 2 * windowMs ? this.arrivals.current : 0 };
    }
    this.arrivals.current += 1;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.inFlight >= this.options.maxInFlight) return;
    this.flushScheduled = true;
    const { linger } = this.options;
    if (linger && this.queue.length < linger.batch && this.arrivals.previous * 4 >= linger.batch) {
      const waited = performance.now() - this.queue[0].at;
      this.lingering = setTimeout(
        () => {
          this.lingering = null;
          this.flushScheduled = false;
          this.flush();
        },
        Math.max(0, linger.ms - waited),
      );
      return;
    }
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const batch = this.queue.splice(0, this.options.maxBatch);
    if (batch.length === 0) return;
    this.options.onStatement?.(batch.length);
    this.inFlight += 1;
    this.settle(batch)
      .catch(async (error: unknown) => {
        if (batch.length > 1 && this.options.retryAlone?.(error)) {
          await Promise.all(batch.map((call) => this.settle([call]).catch((own: unknown) => call.reject(own))));
        } else {
          batch.forEach((call) => call.reject(error));
        }
      })
      .finally(() => {
        this.inFlight -= 1;
        if (this.queue.length > 0) this.scheduleFlush();
      });
    if (this.queue.length > 0) this.scheduleFlush();
  }

  /** Runs a batch and answers its calls; rejects (answering none) when the statement fails. */
  private async settle(batch: typeof this.queue): Promise<void> {
    const outputs = await this.runGuarded(batch.map((call) => call.input));
    if (!Array.isArray(outputs) || outputs.length !== batch.length) {
      throw new Error(`a batched statement answered ${String(outputs?.length)} results for ${batch.length} calls`);
    }
    batch.forEach((call, i) => call.resolve(outputs[i]));
  }

  /** `run`, with a synchronous throw turned into a failed batch (it runs from setImmediate, outside any caller). */
  private runGuarded(inputs: I[]): Promise<O[]> {
    try {
      return this.run(inputs);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
