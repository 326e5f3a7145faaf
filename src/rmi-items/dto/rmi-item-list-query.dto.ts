import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { CharLength, RMI_ITEM_LIMITS } from '../rmi-item-fields.js';
import { PageCursor, PageLimit } from '../../common/http/page-query.js';

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

  @PageLimit(200, 50)
  limit: number = 50;

  @PageCursor()
  cursor?: string;
}
