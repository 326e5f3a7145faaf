import { ApiProperty } from '@nestjs/swagger';
import { AccountDto, IdentityLinkDto } from '../../accounts/dto/account.dto.js';
import { IDENTITY_PROVIDERS, type IdentityProvider } from '../../common/identity-providers.js';

export class SessionFactsDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: IDENTITY_PROVIDERS, description: 'Provider the session was authenticated with' })
  provider: IdentityProvider;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) identityLinkId: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the person signed in at the provider (its auth_time); null when it did not say: never recent',
  })
  authenticatedAt: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Login facts, e.g. SERMI actor and principal',
  })
  authContext: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) idleExpiresAt: string;
  @ApiProperty({ format: 'date-time' }) absoluteExpiresAt: string;
}

export class MeDto {
  @ApiProperty({ type: AccountDto }) account: AccountDto;
  @ApiProperty({ type: [IdentityLinkDto], description: 'Subjects are shown partially' }) links: IdentityLinkDto[];
  @ApiProperty({ type: SessionFactsDto }) session: SessionFactsDto;
  @ApiProperty({ description: 'Send as X-CSRF-Token on every state-changing request of this session' })
  csrfToken: string;
}
