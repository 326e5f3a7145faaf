import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiProviderLogoutUrl } from '../../auth/dto/provider-logout-url.js';
import { IsBoolean, IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { IDENTITY_PROVIDERS, type IdentityProvider } from '../../common/identity-providers.js';
import { PasswordlessStartDto } from '../../providers/digidentity/dto/digidentity.dto.js';

export class LinkDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: IDENTITY_PROVIDERS }) provider: IdentityProvider;
  @ApiProperty() issuer: string;
  @ApiProperty({ description: 'The provider subject, start and end only', example: 'e2x0…8d3o' }) subject: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) attributes: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) firstLoginAt: string;
  @ApiProperty({ format: 'date-time' }) lastLoginAt: string;
  @ApiProperty({ description: 'This session was authenticated through this link' }) usedByThisSession: boolean;
}

export class LinkListDto {
  @ApiProperty({ type: [LinkDto] }) items: LinkDto[];
  @ApiProperty({ enum: IDENTITY_PROVIDERS, isArray: true, description: 'Enabled providers this account can add' })
  linkableProviders: IdentityProvider[];
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      'Until then, links can be added or removed without signing in again; null when the provider did not say when the person signed in (sign in again first)',
  })
  recentAuthenticationUntil: string | null;
}

export class ReauthenticateQueryDto {
  @ApiPropertyOptional({ description: 'Same-site path to return to', example: '/settings' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  returnTo?: string;

  @ApiPropertyOptional({ enum: IDENTITY_PROVIDERS, description: 'Default: the provider this session signed in with' })
  @IsOptional()
  @IsIn(IDENTITY_PROVIDERS)
  provider?: IdentityProvider;
}

export class StartLinkDto {
  @ApiPropertyOptional({ description: 'Same-site path to return to after the provider login', example: '/settings' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  returnTo?: string;

  @ApiPropertyOptional({ enum: ['redirect', 'passwordless'], default: 'redirect' })
  @IsOptional()
  @IsIn(['redirect', 'passwordless'])
  mode?: 'redirect' | 'passwordless';

  @ApiPropertyOptional({
    description:
      "Replace the account's existing link for this provider (the person's own re-bind after their provider account was re-created)",
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  replaceExisting?: boolean;
}

export class StartedLinkPasswordlessDto extends PasswordlessStartDto {
  @ApiProperty({
    description: 'Poll this path; on complete the identity is linked',
    example: '/auth/digidentity/passwordless/…',
  })
  pollUrl: string;
}

export class StartedLinkDto {
  @ApiProperty({ enum: ['redirect', 'passwordless'] }) mode: 'redirect' | 'passwordless';
  @ApiPropertyOptional({ description: 'Send the browser here (mode redirect)' }) redirectUrl?: string;
  @ApiPropertyOptional({ type: StartedLinkPasswordlessDto }) passwordless?: StartedLinkPasswordlessDto;
}

export class RemovedLinkDto {
  @ApiProperty({ format: 'uuid' }) removedLinkId: string;
  @ApiProperty({ description: 'Sessions that had been authenticated through the removed link, now ended' })
  revokedSessions: number;
  @ApiProperty({ description: 'This session was one of them: the browser is signed out' }) signedOut: boolean;
  @ApiProviderLogoutUrl() providerLogoutUrl?: string;
}

export class PendingIdentityActionDto {
  @ApiProperty({ format: 'uuid', description: 'The id from GET /api/pending-identity' })
  @IsUUID()
  pendingIdentityId: string;

  @ApiPropertyOptional({ description: 'Same-site path to return to after a confirmation at the provider' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  returnTo?: string;
}

export class PendingIdentityDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: IDENTITY_PROVIDERS }) provider: IdentityProvider;
  @ApiProperty({ enum: ['unknown_identity', 'probable_recreated_identity'] }) reason: string;
  @ApiProperty({
    example: '7F3A-9C21',
    description: 'A short reference the person can give the support desk, which finds the identity by it',
  })
  reference: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) attributes: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) lastSeenAt: string;
  @ApiProperty({ format: 'date-time', description: 'This browser can attach it (or create an account) until then' })
  selfServiceUntil: string;
  @ApiProperty({ description: 'Sign in with a method already linked, then POST /api/pending-identity/attach' })
  canAttach: boolean;
  @ApiProperty({ description: 'POST /api/pending-identity/create-account is allowed (provider policy `choose`)' })
  canCreateAccount: boolean;
}

export class AttachOutcomeDto {
  @ApiProperty({
    enum: ['attached', 'confirm_with_provider'],
    description:
      'confirm_with_provider: the identity was left in this browser before this account signed in here; send the browser to redirectUrl to sign in with it again, which attaches it',
  })
  status: 'attached' | 'confirm_with_provider';
  @ApiPropertyOptional({ format: 'uuid' }) linkId?: string;
  @ApiPropertyOptional({ description: "It replaced the account's earlier link for that provider (a re-bind)" })
  replaced?: boolean;
  @ApiPropertyOptional({ description: 'This session used the replaced link and has ended' }) signedOut?: boolean;
  @ApiPropertyOptional() redirectUrl?: string;
  @ApiProviderLogoutUrl() providerLogoutUrl?: string;
}

export class CreatedAccountDto {
  @ApiProperty({ format: 'uuid' }) accountId: string;
  @ApiProperty({ format: 'uuid' }) linkId: string;
}
