import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The pages' templates and static files live in src/pages/views and src/pages/assets; the compiled code runs from
 * dist/, so they are found from the project root (the nearest folder with a package.json), not from this file.
 */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('pages: no package.json above the running code');
    dir = parent;
  }
  return dir;
}

const root = projectRoot();
export const VIEWS_DIR = join(root, 'src', 'pages', 'views');
export const ASSETS_DIR = join(root, 'src', 'pages', 'assets');
