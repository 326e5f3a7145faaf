import type { FieldError } from '../problem/app-exception.js';

const MAX_DEPTH = 16;

/** A lone surrogate: JSON's `\ud800` escape can carry one, no Unicode text contains one (ES2024 isWellFormed). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a string is Unicode text Postgres can store: no lone surrogate. */
export const isWellFormedText = (text: string) => !LONE_SURROGATE.test(text);

/**
 * Structural checks that run before class-transformer and class-validator see the input: bounded nesting (deep
 * JSON would overflow their recursion), no NUL characters and no lone UTF-16 surrogates (Postgres refuses both in
 * text and jsonb, and a lone surrogate has no UTF-8 form), and only own keys the DTO declares (which also catches
 * `__proto__` and `constructor`).
 */
export function inputShapeErrors(value: unknown, allowedKeys: ReadonlySet<string>): FieldError[] {
  const errors: FieldError[] = [];
  for (const key of Object.keys(value as object)) {
    if (!allowedKeys.has(key)) {
      errors.push({ field: key, rule: 'whitelistValidation', message: `property ${key} should not exist` });
    }
  }
  const visit = (node: unknown, path: string, depth: number) => {
    if (errors.length > 20) return;
    if (typeof node === 'string') {
      if (node.includes('\u0000'))
        errors.push({
          field: path,
          rule: 'noNulCharacter',
          message: `${path || 'value'} must not contain NUL characters`,
        });
      if (!isWellFormedText(node))
        errors.push({
          field: path,
          rule: 'wellFormedUnicode',
          message: `${path || 'value'} must be well-formed Unicode (no lone surrogates)`,
        });
      return;
    }
    if (node === null || typeof node !== 'object') return;
    if (depth > MAX_DEPTH) {
      errors.push({
        field: path,
        rule: 'maxDepth',
        message: `${path || 'value'} is nested more than ${MAX_DEPTH} levels deep`,
      });
      return;
    }
    for (const [key, child] of Object.entries(node)) {
      const childPath = path ? `${path}.${key}` : key;
      if (key.includes('\u0000'))
        errors.push({ field: childPath, rule: 'noNulCharacter', message: 'keys must not contain NUL characters' });
      visit(child, childPath, depth + 1);
    }
  };
  visit(value, '', 0);
  return errors;
}
