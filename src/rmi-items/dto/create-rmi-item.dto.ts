import { asciiUpperCase } from '../../common/http/ascii-upper-case.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Matches } from 'class-validator';
import { RMI_ITEM_CODE_PATTERN } from '../rmi-item.entity.js';
import { CharLength, RMI_ITEM_CODE_MESSAGE, RMI_ITEM_LIMITS } from '../rmi-item-fields.js';

export const upperCaseCode = Transform(({ value }) => (typeof value === 'string' ? asciiUpperCase(value) : value));

export class CreateRmiItemDto {
  @ApiProperty({
    pattern: RMI_ITEM_CODE_PATTERN.source,
    example: 'IMMO.KEY-PROGRAMMING',
    description: 'Unique key; letters are upper-cased on arrival',
  })
  @upperCaseCode
  @IsString()
  @Matches(RMI_ITEM_CODE_PATTERN, { message: RMI_ITEM_CODE_MESSAGE })
  code: string;

  @ApiProperty({ minLength: 1, maxLength: RMI_ITEM_LIMITS.titleMax })
  @IsString()
  @CharLength(1, RMI_ITEM_LIMITS.titleMax)
  @Matches(/\S/, { message: 'title must not be blank' })
  title: string;

  @ApiProperty({ description: 'Only security-related items are gated by SERMI' })
  @IsBoolean()
  securityRelated: boolean;

  @ApiPropertyOptional({ type: String, nullable: true, minLength: 1, maxLength: RMI_ITEM_LIMITS.categoryMax })
  @IsOptional()
  @IsString()
  @CharLength(1, RMI_ITEM_LIMITS.categoryMax)
  category?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, minLength: 1, maxLength: RMI_ITEM_LIMITS.notesMax })
  @IsOptional()
  @IsString()
  @CharLength(1, RMI_ITEM_LIMITS.notesMax)
  notes?: string | null;
}

/** Documents the JSON form of POST /api/admin/rmi-items/import; the body itself is checked by readJsonImport. */
export class ImportRmiItemsDto {
  @ApiProperty({ type: [CreateRmiItemDto], maxItems: 10_000 })
  items: CreateRmiItemDto[];
}
