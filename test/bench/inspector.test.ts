import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import { connectInspector, fullCollection } from '../../bench/inspector.js';
import { benchNodeArgs, type Service } from '../../bench/processes.js';
import { freePort } from '../support/free-port.js';

const service = (inspectorPort?: number) => ({ port: 1, inspectorPort }) as Service;

describe("the bench's full collection before measuring", () => {
  it('asks a process started with an inspector on loopback for one: its heap shrinks to what is kept', async () => {
    const port = await freePort();
    const flags = benchNodeArgs(port);
    // Garbage the process makes and drops at once: only a collection frees it.
    const child = spawn(
      process.execPath,
      [
        ...flags,
        '-e',
        "globalThis.junk = Array.from({ length: 3e5 }, (_, i) => ({ i })); globalThis.junk = null; console.log('dropped'); setInterval(() => {}, 1000)",
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    try {
      await once(child.stdout!, 'data');
      const inspector = await connectInspector(port);
      const before = await inspector.heapInUse();
      inspector.close();
      await fullCollection(service(port));
      const probe = await connectInspector(port);
      const after = await probe.heapInUse();
      probe.close();
      expect(after).toBeLessThan(before / 2);
    } finally {
      child.kill();
    }
  });

  it('refuses a service without an inspector rather than measure without the collection', async () => {
    await expect(fullCollection(service())).rejects.toThrow(/has no inspector/);
  });
});
