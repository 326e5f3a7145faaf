import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import type { Response } from 'express';
import { drained } from './access-log-export.js';

/** A response whose client reads nothing (a paused download) until told to. */
function pausedResponse() {
  const res = Object.assign(new EventEmitter(), {
    destroyed: false,
    writableEnded: false,
    destroy() {
      res.destroyed = true;
      res.emit('close');
    },
  });
  return res;
}

describe('drained (export back-pressure)', () => {
  it('waits for the client to read again', async () => {
    const res = pausedResponse();
    const waiting = drained(res as unknown as Response, 1000);
    res.emit('drain');
    expect(await waiting).toBe(true);
    expect(res.destroyed).toBe(false);
  });

  it('drops a client that stopped reading, so it cannot hold an export slot and a connection', async () => {
    const res = pausedResponse();
    expect(await drained(res as unknown as Response, 20)).toBe(false);
    expect(res.destroyed).toBe(true);
  });

  it('answers false at once for a client that already went away', async () => {
    const res = pausedResponse();
    res.destroyed = true;
    expect(await drained(res as unknown as Response, 1000)).toBe(false);
  });
});
