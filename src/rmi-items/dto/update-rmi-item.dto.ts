import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Matches } from 'class-validator';
import { UnlessAbsent } from '../../common/http/unless-absent.js';
import { CharLength, RMI_ITEM_LIMITS } from '../rmi-item-fields.js';

/** Fields left out stay as they are; `null` clears category or notes. */
export class UpdateRmiItemDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: RMI_ITEM_LIMITS.titleMax })
  @UnlessAbsent()
  @IsString()
  @CharLength(1, RMI_ITEM_LIMITS.titleMax)
  @Matches(/\S/, { message: 'title must not be blank' })
  title?: string;

  @ApiPropertyOptional({ description: 'Only security-related items are gated by SERMI' })
  @UnlessAbsent()
  @IsBoolean()
  securityRelated?: boolean;

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
