import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateTimeString } from '../../common/http/date-time.js';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';

export class AuditEventQueryDto {
  @ApiPropertyOptional({
    description: 'Exact event type (`account.updated`), or a prefix ending in `.*` (`session.*`)',
    example: 'account.updated',
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$/, {
    message: 'type must look like account.updated or session.*',
  })
  type?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Events where this account is the actor or the subject' })
  @IsOptional()
  @IsUUID()
  accountId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Inclusive lower bound on the event time' })
  @IsOptional()
  @IsDateTimeString()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Exclusive upper bound on the event time' })
  @IsOptional()
  @IsDateTimeString()
  to?: string;

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
