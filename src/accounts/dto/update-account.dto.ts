import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsIn } from 'class-validator';
import { UnlessAbsent } from '../../common/http/unless-absent.js';
import { WrittenReason } from '../../common/http/written-reason.js';
import { ACCOUNT_ROLES, ACCOUNT_STATUSES, type AccountRole, type AccountStatus } from '../account.entity.js';

export class UpdateAccountDto {
  @ApiPropertyOptional({ enum: ACCOUNT_STATUSES, description: 'Disabling revokes every session of the account' })
  @UnlessAbsent()
  @IsIn(ACCOUNT_STATUSES)
  status?: AccountStatus;

  @ApiPropertyOptional({ enum: ACCOUNT_ROLES, isArray: true, description: 'The complete new set of roles' })
  @UnlessAbsent()
  @IsArray()
  @ArrayMaxSize(ACCOUNT_ROLES.length)
  @ArrayUnique()
  @IsIn(ACCOUNT_ROLES, { each: true })
  roles?: AccountRole[];

  @WrittenReason('Why (ticket number, what was checked); kept in the account.updated audit event')
  reason: string;
}
