import { type ArgumentMetadata, Injectable, ValidationPipe, type ValidationError } from '@nestjs/common';
import { AppException, type FieldError } from '../problem/app-exception.js';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = `${prefix}${error.property}`;
    const own = Object.entries(error.constraints ?? {}).map(([rule, message]) => ({ field, rule, message }));
    return [...own, ...flatten(error.children ?? [], `${field}.`)];
  });
}

/**
 * Global validation: unknown fields are refused (not silently dropped), values are transformed to the DTO's
 * types, and every failure becomes `validation_failed` with one entry per field and rule.
 */
@Injectable()
export class AppValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) =>
        new AppException('validation_failed', 'One or more fields are invalid', { errors: flatten(errors) }),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype && this.isDto(metadata.metatype)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new AppException('validation_failed', 'The request body must be a JSON object', {
          errors: [{ field: '', rule: 'isObject', message: 'body must be a JSON object' }],
        });
      }
    }
    return super.transform(value, metadata);
  }

  private isDto(metatype: unknown): boolean {
    return typeof metatype === 'function' && ![String, Number, Boolean, Array, Object].includes(metatype as never);
  }
}
