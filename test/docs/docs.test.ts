import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { configurationReference, CONFIGURATION_FILE, settingsSections } from '../../scripts/config-reference.js';
import { ERROR_STATUS } from '../../src/common/problem/error-codes.js';
import { PROJECT_ROOT } from '../support/spawn-process.js';

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), 'utf8');

const DOCUMENTS = [
  'README.md',
  ...readdirSync(join(PROJECT_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

function withoutCodeBlocks(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const ids = new Set<string>();
  for (const [, text] of withoutCodeBlocks(markdown).matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = text
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    ids.add(count === 0 ? base : `${base}-${count}`);
  }
  return ids;
}

/** What is wrong with a link from the project-relative file `from` to `target`; null when it resolves. */
function brokenLink(from: string, target: string): string | null {
  const [path, anchor] = target.split('#');
  const file = path === '' ? join(PROJECT_ROOT, from) : resolve(dirname(join(PROJECT_ROOT, from)), path);
  if (!existsSync(file)) return `${target}: no such file`;
  if (anchor === undefined || !file.endsWith('.md')) return null;
  return anchors(readFileSync(file, 'utf8')).has(anchor) ? null : `${target}: no such heading`;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(join(PROJECT_ROOT, folder)).flatMap((name) => {
    const path = `${folder}/${name}`;
    if (statSync(join(PROJECT_ROOT, path)).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs|njk|sql|ya?ml)$/.test(name) ? [path] : [];
  });
}

describe('documentation', () => {
  it('docs/configuration.md matches the settings classes (run `npm run docs:config` after changing a setting)', async () => {
    expect(read(CONFIGURATION_FILE)).toBe(await configurationReference());
  });

  it('describes every setting where it is declared, and titles every settings class', () => {
    const sections = settingsSections();
    expect(sections.filter((section) => !section.title || !section.introduction).map((s) => s.className)).toEqual([]);
    const settings = sections.flatMap((section) => section.settings);
    expect(settings.filter((setting) => setting.description.length < 10).map((s) => s.name)).toEqual([]);
    expect(settings.length).toBeGreaterThan(80);
  });

  it('docs/errors.md lists every stable error code with its status', () => {
    const errors = read('docs/errors.md');
    const rows = new Map(
      [...errors.matchAll(/^\| `([a-z_]+)` +\| (\d{3}) +\|/gm)].map(([, code, status]) => [code, Number(status)]),
    );
    expect(Object.fromEntries(rows)).toEqual(ERROR_STATUS);
  });

  it('links in README.md and docs/ lead to files and headings that exist', () => {
    const broken = DOCUMENTS.flatMap((document) => {
      const text = withoutCodeBlocks(read(document));
      const targets = [
        ...[...text.matchAll(/\]\(([^)\s]+)\)/g)].map(([, target]) => target),
        ...[...text.matchAll(/<img src="([^"]+)"/g)].map(([, target]) => target),
      ];
      return targets
        .filter((target) => !/^(https?|mailto):/.test(target))
        .map((target) => brokenLink(document, target))
        .filter((problem) => problem !== null)
        .map((problem) => `${document}: ${problem}`);
    });
    expect(broken).toEqual([]);
  });

  it('keeps the README short: everything else lives in docs/', () => {
    expect(Buffer.byteLength(read('README.md'))).toBeLessThanOrEqual(10 * 1024);
  });

  it('points comments at docs/ in this repository, never at documents a fresh clone lacks', () => {
    // Built from parts, so this file does not match itself.
    const outside = new RegExp(
      [String.raw`\.\./` + 'shared', String.raw`\bseeds? ` + String.raw`0\d\d`, 'stack-' + 'notes'].join('|'),
      'i',
    );
    const bareName = new RegExp(String.raw`(?<![\w/])(sermi|providers|linking|oidc-hardening)` + String.raw`\.md\b`);
    const files = ['src', 'test', 'sandbox', 'scripts', 'bench', 'deploy', 'migrations'].flatMap(sourceFiles);
    const problems: string[] = [];
    for (const file of files) {
      for (const [index, line] of read(file).split('\n').entries()) {
        if (outside.test(line) || bareName.test(line)) problems.push(`${file}:${index + 1}: ${line.trim()}`);
        for (const [target] of line.matchAll(/\bdocs\/[a-z0-9-]+\.md(?:#[\w-]+)?/g)) {
          // Written from the project root, as README.md links.
          const problem = brokenLink('README.md', target);
          if (problem) problems.push(`${file}:${index + 1}: ${problem}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(files.length).toBeGreaterThan(100);
  });
});
