// The folders of src/ and the value imports between them: the layering rule ("no folder imports a folder that
// imports it back, and none imports the composition root app/") that ESLint (eslint.config.js) and a test check.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import ts from 'typescript';

/** The folder every other folder's code is composed in; nothing may import it but main.ts. */
export const COMPOSITION_ROOT = 'app';

function sources(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

/** A module's value imports: `import type` and imports of types only vanish at run time and do not count. */
function valueSpecifiers(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const specifiers = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (clause?.isTypeOnly) continue;
      const named = clause?.namedBindings;
      const onlyTypes =
        clause !== undefined &&
        clause.name === undefined &&
        named !== undefined &&
        ts.isNamedImports(named) &&
        named.elements.length > 0 &&
        named.elements.every((element) => element.isTypeOnly);
      if (!onlyTypes) specifiers.push(statement.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && !statement.isTypeOnly) {
      specifiers.push(statement.moduleSpecifier.text);
    }
  }
  return specifiers;
}

/** The folder of src/ a file is in; files directly in src/ (main.ts) are in none. */
function folderOf(srcRoot, file) {
  const parts = relative(srcRoot, file).split(sep);
  return parts.length > 1 ? parts[0] : null;
}

/** Every value import from one folder of src/ into another: { from, to, file, target } (paths relative to src/). */
export function folderEdges(srcRoot) {
  const edges = [];
  for (const file of sources(srcRoot)) {
    const from = folderOf(srcRoot, file);
    if (!from) continue;
    for (const specifier of valueSpecifiers(file)) {
      if (!specifier.startsWith('.')) continue;
      const target = normalize(join(dirname(file), specifier));
      const to = target.startsWith(srcRoot + sep) ? folderOf(srcRoot, target) : null;
      if (to && to !== from) edges.push({ from, to, file: relative(srcRoot, file), target: relative(srcRoot, target) });
    }
  }
  return edges;
}

/** The folders on each cycle of the folder graph (its strongly connected components of more than one folder). */
export function folderCycles(edges) {
  const graph = new Map();
  for (const { from, to } of edges) {
    if (!graph.has(from)) graph.set(from, new Set());
    if (!graph.has(to)) graph.set(to, new Set());
    graph.get(from).add(to);
  }
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const cycles = [];
  let next = 0;
  const visit = (node) => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node)) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node), low.get(to)));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node), index.get(to)));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles;
}

/** The imports that break the layering: those on a folder cycle, and those into the composition root. */
export function layeringViolations(srcRoot) {
  const edges = folderEdges(srcRoot);
  const cycles = folderCycles(edges);
  return edges.flatMap((edge) => {
    const cycle = cycles.find((folders) => folders.includes(edge.from) && folders.includes(edge.to));
    if (cycle) return [{ ...edge, reason: `closes a folder cycle (${cycle.join(', ')})` }];
    if (edge.to === COMPOSITION_ROOT) return [{ ...edge, reason: `imports the composition root ${COMPOSITION_ROOT}/` }];
    return [];
  });
}
