/**
 * Coalesces concurrent calls into one database statement: a call made while `maxInFlight` statements are already
 * running waits for one of them and then goes out together with every other call that queued meanwhile (up to
 * `maxBatch`). A lone call goes out at once, so nothing waits on a timer; under load one round trip serves many
 * requests. Each call still gets its own answer, read from the database when its statement ran — nothing is
 * cached. `run` answers the inputs in order; when it fails, every call of that batch fails with its error.
 */
export class StatementBatcher<I, O> {
  private queue: { input: I; resolve: (output: O) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;

  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly options: { maxBatch: number; maxInFlight: number },
  ) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.inFlight < this.options.maxInFlight) this.flush();
    });
  }

  private flush(): void {
    const batch = this.queue.splice(0, this.options.maxBatch);
    if (batch.length === 0) return;
    this.inFlight += 1;
    this.run(batch.map((call) => call.input))
      .then(
        (outputs) => batch.forEach((call, i) => call.resolve(outputs[i])),
        (error: unknown) => batch.forEach((call) => call.reject(error)),
      )
      .finally(() => {
        this.inFlight -= 1;
        if (this.queue.length > 0) this.flush();
      });
  }
}
