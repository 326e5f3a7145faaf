import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ASSETS_DIR } from './page-files.js';

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface PageAsset {
  name: string;
  type: string;
  body: Buffer;
  /** Part of the URL: a changed file gets a new URL, so browsers may cache each one for a year. */
  version: string;
  url: string;
}

/** The pages' CSS, scripts and images, read once at start-up: only these names are ever served. */
export class PageAssets {
  private readonly byName = new Map<string, PageAsset>();

  constructor(dir = ASSETS_DIR) {
    for (const name of readdirSync(dir)) {
      const type = TYPES[extname(name)];
      if (!type) continue;
      const body = readFileSync(join(dir, name));
      const version = createHash('sha256').update(body).digest('base64url').slice(0, 12);
      this.byName.set(name, { name, type, body, version, url: `/assets/${version}/${name}` });
    }
  }

  get(name: string): PageAsset | undefined {
    return this.byName.get(name);
  }

  url(name: string): string {
    const asset = this.byName.get(name);
    if (!asset) throw new Error(`pages: no asset ${name}`);
    return asset.url;
  }
}
