import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AsciiUpperCase } from '../../common/http/ascii-upper-case.js';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { RMI_ITEM_CODE_PATTERN } from '../../rmi-items/rmi-item.entity.js';
import { DENIAL_REASONS, VIN_PATTERN } from '../access-rules.js';

export class AccessRequestDto {
  @ApiProperty({
    description: 'Vehicle identification number (ISO 3779; case-insensitive)',
    example: 'WVWZZZ1JZXW000001',
  })
  @IsString()
  @AsciiUpperCase()
  @Matches(VIN_PATTERN, { message: 'vin must be 17 characters: digits and letters except I, O and Q' })
  vin: string;

  @ApiProperty({ description: 'RMI item code (case-insensitive)', example: 'IMMO_KEY_PROGRAMMING' })
  @IsString()
  @AsciiUpperCase()
  @Matches(RMI_ITEM_CODE_PATTERN, { message: 'item must be an RMI item code (letters, digits, . _ -)' })
  item: string;

  @ApiPropertyOptional({ description: 'Portal path a fresh SERMI login should return to', example: '/jobs/42' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  returnTo?: string;
}

class AccessItemDto {
  @ApiProperty() code: string;
  @ApiProperty() title: string;
  @ApiProperty() securityRelated: boolean;
}

class AccessActorDto {
  @ApiProperty({ enum: ['IOE', 'RSSE'] }) type: 'IOE' | 'RSSE';
  @ApiProperty({ description: 'Pseudonymous subject of the person who signed in' }) sub: string;
  @ApiProperty({ description: 'IOEUID or RSSEUID' }) uid: string;
  @ApiProperty({ description: 'IOUID or RSSUID' }) organisationUid: string;
}

class AccessPrincipalDto {
  @ApiProperty() ioeuid: string;
  @ApiProperty() iouid: string;
}

class AccessGrantDto {
  @ApiProperty({ description: 'ES256 JWT (typ rmi-access-grant+jwt); verify against /.well-known/jwks.json' })
  token: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
}

export class AccessDecisionDto {
  @ApiProperty({ format: 'uuid', description: 'The access log record; also the grant jti' }) accessId: string;
  @ApiProperty({ enum: ['granted', 'denied'] }) decision: 'granted' | 'denied';
  @ApiProperty({ enum: ['not_security_related', 'sermi_session_valid', ...DENIAL_REASONS] }) reason: string;
  @ApiProperty({ format: 'date-time' }) decidedAt: string;
  @ApiProperty() vin: string;
  @ApiProperty({ type: AccessItemDto }) item: AccessItemDto;
  @ApiProperty({ description: 'Whether the item is security-related RMI, for which SERMI applies' })
  sermiRequired: boolean;
  @ApiProperty({ type: AccessActorDto, nullable: true, description: 'Who acts (IOE, or RSSE in a chain session)' })
  actor: AccessActorDto | null;
  @ApiProperty({ type: AccessPrincipalDto, nullable: true, description: 'On whose authorisation (the IOE)' })
  principal: AccessPrincipalDto | null;
  @ApiProperty({ type: AccessGrantDto, nullable: true, description: 'For granted security-related items' })
  grant: AccessGrantDto | null;
  @ApiProperty({ type: String, nullable: true, description: 'Starts the fresh SERMI login that would help' })
  reauthenticateUrl: string | null;
}
