import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ACCOUNT_ROLES, ACCOUNT_STATUSES, type AccountRole, type AccountStatus } from '../account.entity.js';
import { IDENTITY_PROVIDERS, type IdentityProvider } from '../../common/identity-providers.js';

export class AccountDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ enum: ACCOUNT_STATUSES }) status: AccountStatus;
  @ApiProperty({ enum: ACCOUNT_ROLES, isArray: true }) roles: AccountRole[];
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class IdentityLinkDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: IDENTITY_PROVIDERS }) provider: IdentityProvider;
  @ApiProperty() issuer: string;
  @ApiProperty({ description: 'Provider subject; shown partially to the account holder, in full to admins' })
  subject: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Provider attributes such as the SERMI UIDs',
  })
  attributes: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) firstLoginAt: string;
  @ApiProperty({ format: 'date-time' }) lastLoginAt: string;
}

export class AccountDetailDto extends AccountDto {
  @ApiProperty({ type: [IdentityLinkDto] }) links: IdentityLinkDto[];
  @ApiProperty({ description: 'Sessions that are neither revoked nor expired' }) activeSessions: number;
}

export class AccountPageDto {
  @ApiProperty({ type: [AccountDto] }) items: AccountDto[];
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` to get the next page; null on the last page',
  })
  nextCursor: string | null;
}
