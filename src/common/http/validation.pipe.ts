import { type ArgumentMetadata, Injectable, ValidationPipe, type ValidationError } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { AppException, type FieldError } from '../problem/app-exception.js';
import { inputShapeErrors } from './input-shape.js';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = `${prefix}${error.property}`;
    const own = Object.entries(error.constraints ?? {}).map(([rule, message]) => ({ field, rule, message }));
    return [...own, ...flatten(error.children ?? [], `${field}.`)];
  });
}

function isDto(metatype: unknown): metatype is new () => object {
  return typeof metatype === 'function' && ![String, Number, Boolean, Array, Object].includes(metatype as never);
}

const declaredPropertiesCache = new WeakMap<object, ReadonlySet<string>>();

/** The properties a DTO class declares through class-validator decorators. */
function declaredProperties(dto: new () => object): ReadonlySet<string> {
  let names = declaredPropertiesCache.get(dto);
  if (!names) {
    names = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(dto, '', true, false)
        .map((m) => m.propertyName),
    );
    declaredPropertiesCache.set(dto, names);
  }
  return names;
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
    const dto = metadata.metatype;
    if ((metadata.type === 'body' || metadata.type === 'query') && isDto(dto)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new AppException('validation_failed', `The request ${metadata.type} must be a JSON object`, {
          errors: [{ field: '', rule: 'isObject', message: `${metadata.type} must be an object` }],
        });
      }
      const errors = inputShapeErrors(value, declaredProperties(dto));
      if (errors.length > 0) throw new AppException('validation_failed', 'One or more fields are invalid', { errors });
    }
    return super.transform(value, metadata);
  }
}
