import { ApiProperty } from '@nestjs/swagger';
import { ApiProviderLogoutUrl } from '../../auth/dto/provider-logout-url.js';

export class SessionSummaryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'The provider the session signed in with', example: 'digidentity' }) provider: string;
  @ApiProperty({ description: 'Whether this is the session making the request' }) current: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the person last authenticated at the provider (its auth_time); null when it did not say',
  })
  authenticatedAt: string | null;
  @ApiProperty({ format: 'date-time' }) lastSeenAt: string;
  @ApiProperty({ format: 'date-time', description: 'When it ends unless used or revoked first' }) expiresAt: string;
  @ApiProperty({ type: String, nullable: true, description: 'Where it signed in from' }) clientIp: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent: string | null;
}

export class SessionListDto {
  @ApiProperty({ type: [SessionSummaryDto], description: 'Live sessions, most recently used first' })
  sessions: SessionSummaryDto[];
  @ApiProperty({ description: 'More live sessions exist than the 100 listed' }) truncated: boolean;
}

export class RevokedSessionDto {
  @ApiProperty({ format: 'uuid' }) revokedSessionId: string;
  @ApiProperty({ description: 'The session that asked was itself ended (its cookie is cleared)' }) signedOut: boolean;
  @ApiProviderLogoutUrl() providerLogoutUrl?: string;
}

export class RevokedSessionsDto {
  @ApiProperty({ description: 'How many other sessions were ended' }) revokedSessions: number;
}
