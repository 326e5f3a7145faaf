import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** `limit` of a keyset-paginated list query: an integer from 1 to `max`. */
export const PageLimit = (max: number, fallback: number) =>
  applyDecorators(
    ApiPropertyOptional({ minimum: 1, maximum: max, default: fallback }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(1),
    Max(max),
  );

/** `cursor` of a keyset-paginated list query: the previous page's opaque nextCursor (see cursor.ts). */
export const PageCursor = () =>
  applyDecorators(
    ApiPropertyOptional({ description: 'nextCursor from the previous page' }),
    IsOptional(),
    IsString(),
    MaxLength(512),
  );
