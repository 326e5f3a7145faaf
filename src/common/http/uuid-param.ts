import { ParseUUIDPipe } from '@nestjs/common';
import { AppException } from '../problem/app-exception.js';

/** `@Param('id', uuidParam)`: a garbage id is a 400 validation error, never a database error. */
export const uuidParam = new ParseUUIDPipe({
  exceptionFactory: () =>
    new AppException('validation_failed', 'The id in the path is not a UUID', {
      errors: [{ field: 'id', rule: 'isUuid', message: 'id must be a UUID' }],
    }),
});
