import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateTimeString } from '../../common/http/date-time.js';
import { IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { PageCursor, PageLimit } from '../../common/http/page-query.js';

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

  @PageLimit(200, 50)
  limit: number = 50;

  @PageCursor()
  cursor?: string;
}
