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
 */
export class StatementBatcher<I, O> {
  private queue: { input: I; resolve: (output: O) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;
  private flushScheduled = false;

  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly options: { maxBatch: number; maxInFlight: number; retryAlone?: (error: unknown) => boolean },
  ) {
    if (!(options.maxBatch >= 1 && options.maxInFlight >= 1)) throw new Error('maxBatch and maxInFlight must be ≥ 1');
  }

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.inFlight >= this.options.maxInFlight) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const batch = this.queue.splice(0, this.options.maxBatch);
    if (batch.length === 0) return;
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
