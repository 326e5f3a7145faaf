import { describe, expect, it } from '@jest/globals';
import { StatementBatcher } from './statement-batcher.js';

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

describe('StatementBatcher', () => {
  it('sends a lone call at once, and the calls made meanwhile together in one statement', async () => {
    const statement = recordingStatement();
    const batcher = new StatementBatcher(statement.run, { maxBatch: 100, maxInFlight: 1 });
    const first = batcher.submit(1);
    const later = [2, 3, 4].map((n) => batcher.submit(n));
    expect(statement.batches).toEqual([[1]]);
    await statement.answerNext();
    expect(await first).toBe('answer 1');
    expect(statement.batches).toEqual([[1], [2, 3, 4]]);
    await statement.answerNext();
    expect(await Promise.all(later)).toEqual(['answer 2', 'answer 3', 'answer 4']);
  });

  it('keeps up to maxInFlight statements running and splits queues longer than maxBatch', async () => {
    const statement = recordingStatement();
    const batcher = new StatementBatcher(statement.run, { maxBatch: 2, maxInFlight: 2 });
    const calls = [1, 2, 3, 4, 5, 6].map((n) => batcher.submit(n));
    expect(statement.batches).toEqual([[1], [2]]);
    await statement.answerNext();
    expect(statement.batches).toEqual([[1], [2], [3, 4]]);
    await statement.answerNext();
    await statement.answerNext();
    await statement.answerNext();
    expect(statement.batches).toEqual([[1], [2], [3, 4], [5, 6]]);
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
      { maxBatch: 10, maxInFlight: 1 },
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(results.slice(1).map((r) => (r as PromiseFulfilledResult<number>).value)).toEqual([20, 30]);
  });
});
