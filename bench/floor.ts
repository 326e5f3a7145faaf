import { format } from './report.js';
import { startBareHealth } from './processes.js';
import type { Rig } from './rig.js';
import { settings } from './settings.js';
import { alternateLoad, backendHealth, printSideBySide } from './side-by-side.js';
import { freePort } from '../test/support/free-port.js';

/**
 * What the HTTP framework costs a request: the backend's `GET /health` (Node's server, Express and its middleware,
 * NestJS's routing and guards) against the same answer from Node's server alone, in alternating windows. The
 * difference is all that any other framework or adapter could save per request; a web login is two requests.
 */
export async function reportFloor(rig: Rig): Promise<void> {
  const bare = await startBareHealth(await freePort());
  try {
    const health = backendHealth('backend /health', rig);
    const floor = { ...health, name: 'node:http alone', service: bare };
    const [backend, node] = await alternateLoad([health, floor], rig.usage, settings.concurrency, () => () => ({
      method: 'GET',
      path: '/health',
    }));
    printSideBySide(
      `The same GET /health from the backend and from Node's HTTP server alone (${settings.concurrency} keep-alive clients, alternating windows)`,
      'request',
      [backend, node],
    );
    const framework = backend.appCpuMs - node.appCpuMs;
    console.log(
      `the framework's part of a request: ${format(framework, 3)} ms of app CPU; of a web login (two requests): ${format(2 * framework, 3)} ms`,
    );
  } finally {
    await bare.stop();
  }
}
