// `npm start`: builds only when a source changed since the last build (a full build takes ~30 s), then runs the
// built app — a restart with nothing changed starts at once.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIfChanged } from './build-if-changed.mjs';

if (buildIfChanged()) console.error('built: sources changed since the last build');
await import(pathToFileURL(join(process.cwd(), 'dist', 'src', 'main.js')).href);
