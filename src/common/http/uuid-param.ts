import { type PipeTransform } from '@nestjs/common';
import { AppException } from '../problem/app-exception.js';
import { UUID_PATTERN } from './cursor.js';

/**
 * `@Param('id', uuidParam)`: a garbage id is a 400 validation error, never a database error, and a valid one is
 * lower-cased so it compares equal to ids the database hands out (`A1B2…` and `a1b2…` are the same UUID).
 */
export const uuidParam: PipeTransform<string, string> = {
  transform(value: string): string {
    if (typeof value !== 'string' || !UUID_PATTERN.test(value)) {
      throw new AppException('validation_failed', 'The id in the path is not a UUID', {
        errors: [{ field: 'id', rule: 'isUuid', message: 'id must be a UUID' }],
      });
    }
    return value.toLowerCase();
  },
};
