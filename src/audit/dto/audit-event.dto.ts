import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class AuditEventDto {
  @ApiProperty({ description: 'Position in the hash chain', example: '42' }) seq: string;
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'account.updated' }) type: string;
  @ApiProperty({ enum: ['account', 'system', 'anonymous'] }) actorType: string;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) actorAccountId: string | null;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) subjectAccountId: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) details: Record<string, unknown>;
  @ApiPropertyOptional({ type: String, nullable: true }) requestId: string | null;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({ description: 'SHA-256 (hex) of the previous event’s hash and this event' }) hash: string;
}

export class AuditEventPageDto {
  @ApiProperty({ type: [AuditEventDto] }) items: AuditEventDto[];
  @ApiPropertyOptional({ type: String, nullable: true }) nextCursor: string | null;
}

class BrokenLinkDto {
  @ApiProperty() seq: string;
  @ApiProperty({ enum: ['hash_mismatch', 'previous_hash_mismatch', 'sequence_gap'] }) problem: string;
}

class ChainHeadDto {
  @ApiProperty() seq: string;
  @ApiProperty({ description: 'Record it outside the database to detect a rewritten chain later' }) hash: string;
}

export class ChainVerificationDto {
  @ApiProperty() valid: boolean;
  @ApiProperty() checkedEvents: number;
  @ApiPropertyOptional({ type: ChainHeadDto, nullable: true }) head: ChainHeadDto | null;
  @ApiPropertyOptional({ type: BrokenLinkDto, nullable: true }) firstBroken: BrokenLinkDto | null;
}
