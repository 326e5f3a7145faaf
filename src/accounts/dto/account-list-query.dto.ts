import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { ACCOUNT_ROLES, ACCOUNT_STATUSES, type AccountRole, type AccountStatus } from '../account.entity.js';
import { PageCursor, PageLimit } from '../../common/http/page-query.js';

export class AccountListQueryDto {
  @ApiPropertyOptional({
    description:
      'Matches part of the display name, or exactly an account id, a provider subject or a provider attribute value (e.g. an IOEUID)',
    maxLength: 200,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ enum: ACCOUNT_STATUSES })
  @IsOptional()
  @IsIn(ACCOUNT_STATUSES)
  status?: AccountStatus;

  @ApiPropertyOptional({ enum: ACCOUNT_ROLES })
  @IsOptional()
  @IsIn(ACCOUNT_ROLES)
  role?: AccountRole;

  @PageLimit(100, 25)
  limit: number = 25;

  @PageCursor()
  cursor?: string;
}
