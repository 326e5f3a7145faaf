import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class AuditEventDto {
  @ApiProperty({ description: 'Order of writing; the list is sorted and paged by it', example: '42' }) seq: string;
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'account.updated' }) type: string;
  @ApiProperty({ enum: ['account', 'system', 'anonymous'] }) actorType: string;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) actorAccountId: string | null;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) subjectAccountId: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) details: Record<string, unknown>;
  @ApiPropertyOptional({ type: String, nullable: true }) requestId: string | null;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({
    description:
      'SHA-256 (hex) of this event, as its seal covers it (events from before the sealed form: chained with the previous event’s hash)',
  })
  hash: string;
}

export class AuditEventPageDto {
  @ApiProperty({ type: [AuditEventDto] }) items: AuditEventDto[];
  @ApiPropertyOptional({ type: String, nullable: true }) nextCursor: string | null;
}

class BrokenLinkDto {
  @ApiProperty({ type: String, nullable: true, description: 'The event’s seq, when it still exists' }) seq:
    string | null;
  @ApiProperty({
    enum: [
      'hash_mismatch',
      'previous_hash_mismatch',
      'sequence_gap',
      'legacy_head_mismatch',
      'anchor_missing',
      'seal_gap',
      'seal_hash_mismatch',
      'record_changed',
      'record_missing',
      'record_unexpected',
    ],
  })
  problem: string;
  @ApiPropertyOptional({ description: 'The seal that no longer adds up (sealed events)' }) sealSeq?: string;
  @ApiPropertyOptional({ format: 'uuid' }) eventId?: string;
}

class ChainHeadDto {
  @ApiProperty({ description: 'The last seal ("0": no seal yet, the head of the events chained before sealing)' })
  sealSeq: string;
  @ApiProperty({ description: 'Record it outside the database to detect a rewritten chain later' }) hash: string;
}

export class ChainVerificationDto {
  @ApiProperty() valid: boolean;
  @ApiProperty() checkedEvents: number;
  @ApiProperty() checkedSeals: number;
  @ApiProperty({ description: 'Written by transactions still open when verification sealed: not covered by it' })
  unsealedEvents: number;
  @ApiPropertyOptional({ type: ChainHeadDto, nullable: true }) head: ChainHeadDto | null;
  @ApiPropertyOptional({ type: BrokenLinkDto, nullable: true }) firstBroken: BrokenLinkDto | null;
}
