import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
// @ts-expect-error plain ESM script without types
import { folderCycles, folderEdges, layeringViolations } from '../../scripts/folder-graph.mjs';
import { PROJECT_ROOT } from '../support/spawn-process.js';

interface Edge {
  from: string;
  to: string;
  file: string;
  target: string;
}

describe('the folders of src/', () => {
  const src = join(PROJECT_ROOT, 'src');

  it('import each other without cycles, and none imports the composition root (app/)', () => {
    expect(layeringViolations(src)).toEqual([]);
  });

  it('are checked on value imports: a type-only import or a spec makes no edge, a value import does', () => {
    const edges = folderEdges(src) as Edge[];
    // oidc/ is the protocol client: the login side (auth/, providers/) uses it, never the other way round.
    expect(edges.some((edge) => edge.from === 'auth' && edge.to === 'oidc')).toBe(true);
    expect(edges.some((edge) => edge.from === 'oidc' && edge.to === 'auth')).toBe(false);
    expect(edges.some((edge) => edge.from === 'providers' && edge.to === 'auth')).toBe(true);
    // A cycle is found when there is one.
    expect(
      folderCycles([
        { from: 'a', to: 'b', file: 'a/x.ts', target: 'b/y.ts' },
        { from: 'b', to: 'c', file: 'b/y.ts', target: 'c/z.ts' },
        { from: 'c', to: 'a', file: 'c/z.ts', target: 'a/x.ts' },
        { from: 'c', to: 'd', file: 'c/z.ts', target: 'd/w.ts' },
      ]),
    ).toEqual([['a', 'b', 'c']]);
  });
});
