import { asciiUpperCase } from '../common/http/ascii-upper-case.js';
import type { PipeTransform } from '@nestjs/common';
import { ValidateBy, type ValidationOptions } from 'class-validator';
import { AppException } from '../common/problem/app-exception.js';
import { RMI_ITEM_CODE_PATTERN } from './rmi-item.entity.js';

/** The same bounds as the table's CHECK constraints, so a request is refused before the database sees it. */
export const RMI_ITEM_LIMITS = { titleMax: 300, categoryMax: 100, notesMax: 2000 } as const;

/** Characters as Postgres' char_length counts them (code points), not UTF-16 units or validator.js graphemes. */
export function charLength(text: string): number {
  return text.length - (text.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);
}

/** A string of `min` to `max` characters by charLength, so what passes here also passes the CHECK constraint. */
export function CharLength(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'charLength',
      constraints: [min, max],
      validator: {
        validate: (value) => typeof value === 'string' && charLength(value) >= min && charLength(value) <= max,
        defaultMessage: () => `$property must be a string of ${min} to ${max} characters`,
      },
    },
    options,
  );
}

/** The fields an administrator maintains; `code` is the key and never changes. */
export const RMI_ITEM_FIELDS = ['title', 'securityRelated', 'category', 'notes'] as const;

export function isRmiItemCode(code: string): boolean {
  return RMI_ITEM_CODE_PATTERN.test(code);
}

export const RMI_ITEM_CODE_MESSAGE =
  'code must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** `@Param('code', rmiItemCodeParam)`: normalised to upper case; anything else is a 400, not a lookup. */
export const rmiItemCodeParam: PipeTransform<string, string> = {
  transform(value: string): string {
    const code = typeof value === 'string' ? asciiUpperCase(value) : '';
    if (!isRmiItemCode(code)) {
      throw new AppException('validation_failed', 'The code in the path is not a valid RMI item code', {
        errors: [{ field: 'code', rule: 'matches', message: RMI_ITEM_CODE_MESSAGE }],
      });
    }
    return code;
  },
};
