import { Transform, Type } from 'class-transformer';

/** `true`/`false` (also 1/0, yes/no); anything else stays a string so @IsBoolean reports it. */
export function EnvBoolean(): PropertyDecorator {
  return Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    const normalized = value.toLowerCase();
    if (['true', '1', 'yes'].includes(normalized)) return true;
    if (['false', '0', 'no'].includes(normalized)) return false;
    return value;
  });
}

export function EnvInteger(): PropertyDecorator {
  return Type(() => Number);
}

/** Comma-separated list; empty entries dropped. */
export function EnvList(): PropertyDecorator {
  return Transform(({ value }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item.length > 0)
      : value,
  );
}
