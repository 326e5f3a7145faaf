import { Matches, ValidateBy, type ValidationOptions } from 'class-validator';
import { applyDecorators } from '@nestjs/common';

/** RFC 3339 date-time (`2026-11-22T10:00:00Z`, fractions and offsets allowed): the one form both JS and Postgres parse alike. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

/** A real instant between 1970 and 9999 (no 2024-13-45, no year 0), so the database never sees a value it rejects. */
export function isReasonableInstant(value: string): boolean {
  const time = Date.parse(value);
  if (Number.isNaN(time)) return false;
  const year = new Date(time).getUTCFullYear();
  return year >= 1970 && year <= 9999 && isCalendarDate(value.slice(0, 10));
}

/** Date.parse rolls 2026-02-30 over to March; this does not. */
function isCalendarDate(ymd: string): boolean {
  const [year, month, day] = ymd.split('-').map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export function IsDateTimeString(options?: ValidationOptions): PropertyDecorator {
  return applyDecorators(
    Matches(RFC3339, { message: '$property must be an RFC 3339 date-time such as 2026-11-22T10:00:00Z', ...options }),
    ValidateBy(
      {
        name: 'isReasonableInstant',
        validator: {
          validate: (value) => typeof value === 'string' && isReasonableInstant(value),
          defaultMessage: () => '$property must be a real date-time between 1970 and 9999',
        },
      },
      options,
    ),
  );
}
