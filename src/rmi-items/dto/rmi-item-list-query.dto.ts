import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { CharLength, RMI_ITEM_LIMITS } from '../rmi-item-fields.js';

const BOOLEAN_STRINGS = new Map([
  ['true', true],
  ['false', false],
]);

export class RmiItemListQueryDto {
  @ApiPropertyOptional({ description: 'Only items with this classification' })
  @IsOptional()
  @Transform(({ value }) => BOOLEAN_STRINGS.get(value) ?? value)
  @IsBoolean()
  securityRelated?: boolean;

  @ApiPropertyOptional({ description: 'Part of the code or title, case-insensitive', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ description: 'Exact category', maxLength: RMI_ITEM_LIMITS.categoryMax })
  @IsOptional()
  @IsString()
  @CharLength(1, RMI_ITEM_LIMITS.categoryMax)
  category?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit: number = 50;

  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}
