// @ts-check
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { join, relative } from 'node:path';
import { layeringViolations } from './scripts/folder-graph.mjs';

const SRC = join(import.meta.dirname, 'src');
/** @type {ReturnType<typeof layeringViolations> | undefined} */
let violations;

/** The folder layering of src/ (scripts/folder-graph.mjs), reported on the files whose imports break it. */
const layers = {
  rules: {
    'folder-layers': {
      meta: { type: 'problem', schema: [], messages: { layer: 'import of {{target}} {{reason}}' } },
      /** @param {import('eslint').Rule.RuleContext} context */
      create(context) {
        violations ??= layeringViolations(SRC);
        const file = relative(SRC, context.filename);
        const mine = violations.filter((violation) => violation.file === file);
        return {
          Program(node) {
            for (const { target, reason } of mine)
              context.report({ node, messageId: 'layer', data: { target, reason } });
          },
        };
      },
    },
  },
};

/**
 * Lint for what the type checker does not catch: import cycles (a module graph that only loads in one order) and
 * promises nobody awaits or handles (a rejection that crashes the process, a write that races the response).
 */
export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', '.data/**', 'artifacts/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX, layers },
    // Resolves the `.js` specifiers of our ESM sources to their `.ts` files.
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver()],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
      // Type-only imports vanish at run time and cannot make a load-order cycle.
      'import-x/no-cycle': ['error', { ignoreExternal: true, allowUnsafeDynamicCyclicDependency: false }],
    },
  },
  // Folders, not only files: a folder never imports one that imports it back (see scripts/folder-graph.mjs).
  { files: ['src/**/*.ts'], rules: { 'layers/folder-layers': 'error' } },
);
