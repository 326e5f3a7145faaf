import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class StartPasswordlessDto {
  @ApiPropertyOptional({ description: 'Same-site path the portal may go to after the login', example: '/jobs/42' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  returnTo?: string;
}

export class PasswordlessStartDto {
  @ApiProperty({ format: 'uuid', description: 'Poll GET /auth/digidentity/passwordless/{id} with it' }) id: string;
  @ApiProperty({ description: 'What the QR code encodes; a deep link for the Digidentity app on mobile' })
  qrCodeUri: string;
  @ApiProperty({ description: 'The QR code as an SVG document' }) qrCodeSvg: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
  @ApiProperty({ description: 'Poll no faster than this; faster polls get the last known state' })
  pollIntervalMs: number;
}

export class PasswordlessStatusDto {
  @ApiProperty({ enum: ['pending', 'complete', 'expired', 'failed'] }) status:
    'pending' | 'complete' | 'expired' | 'failed';
  @ApiPropertyOptional({ description: 'On failed: the stable error code' }) code?: string;
  @ApiPropertyOptional({ description: 'On complete: where the portal may go next' }) returnTo?: string;
}
