import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { PageCursor, PageLimit } from '../../common/http/page-query.js';
import { WRITTEN_REASON_MAX, WrittenReason } from '../../common/http/written-reason.js';
import { IDENTITY_PROVIDERS, type IdentityProvider } from '../../common/identity-providers.js';
import { PENDING_REASONS, type PendingReason } from '../../pending-identities/pending-identity.entity.js';
import { REBIND_REQUEST_STATUSES, type RebindRequestStatus } from '../rebind-request.entity.js';

export class PendingIdentityQueryDto {
  @ApiPropertyOptional({ enum: ['open', 'resolved', 'all'], default: 'open' })
  @IsOptional()
  @IsIn(['open', 'resolved', 'all'])
  status?: 'open' | 'resolved' | 'all';

  @ApiPropertyOptional({ enum: IDENTITY_PROVIDERS })
  @IsOptional()
  @IsIn(IDENTITY_PROVIDERS)
  provider?: IdentityProvider;

  @ApiPropertyOptional({ enum: PENDING_REASONS })
  @IsOptional()
  @IsIn(PENDING_REASONS)
  reason?: PendingReason;

  @ApiPropertyOptional({
    example: '7F3A-9C21',
    description: 'The short reference the person was shown (LOGIN_PENDING_URL): 8 hex digits, dash optional',
  })
  @IsOptional()
  @Matches(/^\s*[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}\s*$/, { message: 'reference must look like 7F3A-9C21' })
  reference?: string;

  @PageLimit(200, 50)
  limit?: number;

  @PageCursor()
  cursor?: string;
}

export class SuspectedAccountDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() displayName: string;
}

export class AdminPendingIdentityDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: '7F3A-9C21', description: 'The short reference the person was shown' }) reference: string;
  @ApiProperty({ enum: IDENTITY_PROVIDERS }) provider: IdentityProvider;
  @ApiProperty() issuer: string;
  @ApiProperty({ description: 'The new provider subject, in full (admins only)' }) subject: string;
  @ApiProperty({ nullable: true, type: String, description: 'Digidentity: the SERMI authorisation UID' })
  personKey: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) attributes: Record<string, unknown>;
  @ApiProperty({ enum: PENDING_REASONS }) reason: PendingReason;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'Review hints, e.g. samePersonKeyAsAccount: the account whose link has the same SERMI authorisation UID',
  })
  flags: Record<string, unknown>;
  @ApiProperty({
    type: SuspectedAccountDto,
    nullable: true,
    description: 'Probable re-created identity of this account',
  })
  suspectedAccount: SuspectedAccountDto | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', description: 'Its latest verified login' }) lastSeenAt: string;
  @ApiProperty({ format: 'date-time' }) rebindableUntil: string;
  @ApiProperty({ description: 'Open, and its latest login recent enough (REBIND_PENDING_MAX_AGE_SECONDS)' })
  rebindable: boolean;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) openRebindRequestId: string | null;
  @ApiProperty({ nullable: true, type: String, enum: ['attached', 'provisioned', 'rebound', 'rejected', 'expired'] })
  resolution: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) resolvedAt: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) resolvedAccountId: string | null;
}

export class AdminPendingIdentityPageDto {
  @ApiProperty({ type: [AdminPendingIdentityDto] }) items: AdminPendingIdentityDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class RebindDto {
  @ApiProperty({ format: 'uuid', description: 'From GET /api/admin/pending-identities; never a subject typed in' })
  @IsUUID()
  pendingIdentityId: string;

  @WrittenReason('Why (ticket number, how the person was identified)')
  reason: string;
}

export class DecideRebindDto {
  @ApiPropertyOptional({ maxLength: WRITTEN_REASON_MAX })
  @IsOptional()
  @IsString()
  @MaxLength(WRITTEN_REASON_MAX)
  comment?: string;
}

export class RejectRebindDto {
  @WrittenReason('Why the request is rejected')
  comment: string;
}

export class RebindOutcomeDto {
  @ApiProperty({
    enum: ['applied', 'requested'],
    description: 'requested: four-eyes is on; another admin must approve',
  })
  status: 'applied' | 'requested';
  @ApiPropertyOptional({ format: 'uuid' }) linkId?: string;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'The subject the link had before' })
  oldSubject?: string | null;
  @ApiPropertyOptional({ description: 'Sessions of the old subject, now ended' }) revokedSessions?: number;
  @ApiPropertyOptional({ format: 'uuid' }) requestId?: string;
  @ApiPropertyOptional({ format: 'date-time' }) expiresAt?: string;
}

export class RebindRequestQueryDto {
  @ApiPropertyOptional({ enum: REBIND_REQUEST_STATUSES })
  @IsOptional()
  @IsIn(REBIND_REQUEST_STATUSES)
  status?: RebindRequestStatus;

  @PageLimit(200, 50)
  limit?: number;

  @PageCursor()
  cursor?: string;
}

export class RebindRequestDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) accountId: string;
  @ApiProperty({ format: 'uuid' }) pendingIdentityId: string;
  @ApiProperty({ format: 'uuid' }) requestedBy: string;
  @ApiProperty() reason: string;
  @ApiProperty({ enum: REBIND_REQUEST_STATUSES }) status: RebindRequestStatus;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) decidedBy: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) decidedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) decisionComment: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
}

export class RebindRequestListDto {
  @ApiProperty({ type: [RebindRequestDto] }) items: RebindRequestDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
