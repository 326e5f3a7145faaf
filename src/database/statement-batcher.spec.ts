import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { hotStatementBatcher, StatementBatcher } from './statement-batcher.js';

/** A statement that records each batch it got and answers when told to. */
function recordingStatement() {
  const batches: number[][] = [];
  const pending: Array<() => void> = [];
  const run = (inputs: number[]) =>
    new Promise<string[]>((resolve) => {
      batches.push(inputs);
      pending.push(() => resolve(inputs.map((n) => `answer ${n}`)));
    });
  const answerNext = async () => {
    pending.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { batches, run, answerNext };
}

const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('StatementBatcher', () => {
  it('sends the calls of one event-loop turn together at its end, and the calls made meanwhile in the next statement', async () => {
    const statement = recordingStatement();
    const batcher = new StatementBatcher(statement.run, { maxBatch: 100, maxInFlight: 1 });
    const first = [1, 2].map((n) => batcher.submit(n));
    expect(statement.batches).toEqual([]);
    await endOfTurn();
    expect(statement.batches).toEqual([[1, 2]]);
    const later = [3, 4, 5].map((n) => batcher.submit(n));
    await endOfTurn();
    expect(statement.batches).toEqual([[1, 2]]);
    await statement.answerNext();
    expect(await Promise.all(first)).toEqual(['answer 1', 'answer 2']);
    await endOfTurn();
    expect(statement.batches).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    await statement.answerNext();
    expect(await Promise.all(later)).toEqual(['answer 3', 'answer 4', 'answer 5']);
  });

  it('sends a lone call without waiting for anything but the end of the turn', async () => {
    const batcher = new StatementBatcher(async (inputs: number[]) => inputs.map((n) => n + 1), {
      maxBatch: 10,
      maxInFlight: 1,
    });
    expect(await batcher.submit(41)).toBe(42);
  });

  it('keeps up to maxInFlight statements running and splits queues longer than maxBatch', async () => {
    const statement = recordingStatement();
    const batcher = new StatementBatcher(statement.run, { maxBatch: 2, maxInFlight: 2 });
    const calls = [1, 2, 3, 4, 5, 6].map((n) => batcher.submit(n));
    await endOfTurn();
    await endOfTurn();
    expect(statement.batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    await statement.answerNext();
    await endOfTurn();
    expect(statement.batches).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    await statement.answerNext();
    await statement.answerNext();
    expect(await Promise.all(calls)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `answer ${n}`));
  });

  it('fails every call of a failed batch, and goes on with the next one', async () => {
    let fail = true;
    const batcher = new StatementBatcher(
      async (inputs: number[]) => {
        if (fail) {
          fail = false;
          throw new Error('database down');
        }
        return inputs.map((n) => n * 10);
      },
      { maxBatch: 2, maxInFlight: 1 },
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseFulfilledResult<number>).value).toBe(30);
  });

  it('fails the batch, not the process, when the statement throws before returning a promise', async () => {
    const batcher = new StatementBatcher<number, number>(
      () => {
        throw new Error('bad statement');
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    await expect(batcher.submit(1)).rejects.toThrow('bad statement');
  });

  it('fails the calls, instead of leaving them waiting, when the statement answers the wrong number of results', async () => {
    const batcher = new StatementBatcher(async (inputs: number[]) => inputs.slice(1), { maxBatch: 10, maxInFlight: 1 });
    const results = await Promise.allSettled([1, 2].map((n) => batcher.submit(n)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toContain('answered 1 results for 2 calls');
  });

  it('refuses a batch size or in-flight limit below one', () => {
    expect(() => new StatementBatcher(async () => [], { maxBatch: 0, maxInFlight: 1 })).toThrow(/must be ≥ 1/);
  });

  it("runs each input alone when retryAlone says a failed batch may be one input's fault", async () => {
    const statements: number[][] = [];
    const batcher = new StatementBatcher(
      async (inputs: number[]) => {
        statements.push(inputs);
        if (inputs.includes(13)) throw Object.assign(new Error('invalid input'), { code: '22P02' });
        return inputs.map((n) => n * 2);
      },
      {
        maxBatch: 10,
        maxInFlight: 1,
        retryAlone: (error) => (error as { code?: string }).code?.startsWith('22') === true,
      },
    );
    const results = await Promise.allSettled([1, 13, 2].map((n) => batcher.submit(n)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual([2, 'rejected', 4]);
    expect(statements).toEqual([[1, 13, 2], [1], [13], [2]]);
  });

  it('fails the whole batch without retrying when retryAlone does not apply (the database is down)', async () => {
    let statements = 0;
    const batcher = new StatementBatcher(
      async () => {
        statements += 1;
        throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
      },
      {
        maxBatch: 10,
        maxInFlight: 1,
        retryAlone: (error) => (error as { code?: string }).code?.startsWith('22') === true,
      },
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(statements).toBe(1);
  });

  it('answers the calls of a hotStatementBatcher by key, whatever order the rows come in, and none without a row', async () => {
    const batcher = hotStatementBatcher(
      15,
      async (ids: string[]) =>
        ids
          .filter((id) => id !== 'b')
          .map((id) => ({ id, name: id.toUpperCase() }))
          .reverse(),
      { input: (id) => id, row: (row) => row.id },
      { onStatement: () => undefined },
    );
    expect(await Promise.all(['a', 'b', 'c'].map((id) => batcher.submit(id)))).toEqual([
      { id: 'a', name: 'A' },
      undefined,
      { id: 'c', name: 'C' },
    ]);
  });

  it('tells onStatement how many calls each statement carried', async () => {
    const sizes: number[] = [];
    const batcher = new StatementBatcher(async (inputs: number[]) => inputs, {
      maxBatch: 3,
      maxInFlight: 1,
      onStatement: (calls) => sizes.push(calls),
    });
    await Promise.all([1, 2, 3, 4].map((n) => batcher.submit(n)));
    await batcher.submit(5);
    expect(sizes).toEqual([3, 1, 1]);
  });

  describe('linger', () => {
    beforeEach(() => {
      jest.useFakeTimers();
    });
    afterEach(() => {
      jest.useRealTimers();
    });

    /** A statement that answers at once and records its batches. */
    function answeringStatement() {
      const batches: number[][] = [];
      const run = async (inputs: number[]) => {
        batches.push(inputs);
        return inputs.map((n) => n * 10);
      };
      return { batches, run };
    }
    const elapse = (ms: number) => jest.advanceTimersByTimeAsync(ms);

    it('never holds back calls that come slowly: each goes out at the end of its turn', async () => {
      const statement = answeringStatement();
      const batcher = new StatementBatcher(statement.run, {
        maxBatch: 10,
        maxInFlight: 1,
        linger: { batch: 4, ms: 10 },
      });
      const answered: number[] = [];
      for (const n of [1, 2, 3, 4, 5]) {
        void batcher.submit(n).then((answer) => answered.push(answer));
        await elapse(0);
        expect(answered.at(-1)).toBe(n * 10);
        await elapse(20);
      }
      expect(statement.batches).toEqual([[1], [2], [3], [4], [5]]);
    });

    it('holds a statement while calls come fast, until a batch has queued or the oldest call waited ms', async () => {
      const statement = answeringStatement();
      const batcher = new StatementBatcher(statement.run, {
        maxBatch: 10,
        maxInFlight: 1,
        linger: { batch: 4, ms: 10 },
      });
      const calls = [1, 2, 3].map((n) => batcher.submit(n));
      await elapse(0);
      // The first calls of a burst go out at once: nothing showed yet that more are coming.
      expect(statement.batches).toEqual([[1, 2, 3]]);
      await elapse(10);
      calls.push(batcher.submit(4));
      await elapse(2);
      calls.push(batcher.submit(5));
      await elapse(7);
      expect(statement.batches).toEqual([[1, 2, 3]]);
      calls.push(batcher.submit(6), batcher.submit(7));
      await elapse(0);
      expect(statement.batches).toEqual([
        [1, 2, 3],
        [4, 5, 6, 7],
      ]);
      calls.push(batcher.submit(8));
      await elapse(9);
      expect(statement.batches).toHaveLength(2);
      await elapse(1);
      expect(statement.batches.at(-1)).toEqual([8]);
      expect(await Promise.all(calls)).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
    });

    it('lingers in a hotStatementBatcher as DATABASE_BATCH_LINGER_MS sets it, and never with 0', async () => {
      const sent = async (lingerMs: number) => {
        const statement = answeringStatement();
        const batcher = hotStatementBatcher(
          lingerMs,
          statement.run,
          { input: String, row: (row) => String(row / 10) },
          { onStatement: () => undefined },
        );
        const calls = Array.from({ length: 8 }, (_, n) => batcher.submit(n));
        await elapse(0);
        await elapse(Math.max(lingerMs, 1));
        calls.push(...[8, 9, 10].map((n) => batcher.submit(n)));
        await elapse(0);
        const beforeTheLinger = statement.batches.length;
        await elapse(lingerMs);
        await Promise.all(calls);
        return { beforeTheLinger, batches: statement.batches.length };
      };
      // Eight calls in the last window: the next three wait up to 15 ms for more.
      expect(await sent(15)).toEqual({ beforeTheLinger: 1, batches: 2 });
      expect(await sent(0)).toEqual({ beforeTheLinger: 2, batches: 2 });
    });

    it('refuses a linger batch outside 2..maxBatch or a linger time of zero', () => {
      const run = async () => [];
      expect(() => new StatementBatcher(run, { maxBatch: 8, maxInFlight: 1, linger: { batch: 9, ms: 5 } })).toThrow(
        /linger/,
      );
      expect(() => new StatementBatcher(run, { maxBatch: 8, maxInFlight: 1, linger: { batch: 4, ms: 0 } })).toThrow(
        /linger/,
      );
    });
  });
});
