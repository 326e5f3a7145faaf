import { WebSocket } from 'undici';
import type { Service } from './processes.js';

/**
 * A full garbage collection in a service started with an inspector (`{ inspect: true }`), e.g. before measuring:
 * the first full collection after a warm-up deoptimizes much of the optimized code at once (see loginsAndMe).
 */
export async function fullCollection(service: Service): Promise<void> {
  if (service.inspectorPort === undefined) throw new Error(`the service on port ${service.port} has no inspector`);
  const inspector = await connectInspector(service.inspectorPort);
  try {
    await inspector.heapAfterFullCollection();
  } finally {
    inspector.close();
  }
}

/**
 * A connection to a process's inspector (started with `--inspect=127.0.0.1:<port>`), for the soak's heap figure: the
 * heap used right after a full collection the bench asks for, so a sample does not depend on when V8 last collected.
 */
export async function connectInspector(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`inspector on port ${port} refused the connection`)), {
      once: true,
    });
  });
  const pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    const call = message.id === undefined ? undefined : pending.get(message.id);
    if (!call) return;
    pending.delete(message.id!);
    if (message.error) call.reject(new Error(message.error.message));
    else call.resolve(message.result);
  });
  socket.addEventListener('close', () => {
    for (const call of pending.values()) call.reject(new Error('inspector connection closed'));
    pending.clear();
  });
  let lastId = 0;
  const send = <T>(method: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = ++lastId;
      pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      socket.send(JSON.stringify({ id, method }));
    });
  const heapInUse = async () => (await send<{ usedSize: number }>('Runtime.getHeapUsage')).usedSize;
  return {
    /** Bytes of JavaScript heap in use now, garbage included. */
    heapInUse,
    /** Bytes of JavaScript heap in use after a full garbage collection. */
    async heapAfterFullCollection(): Promise<number> {
      await send('HeapProfiler.collectGarbage');
      return heapInUse();
    },
    close: () => socket.close(),
  };
}
