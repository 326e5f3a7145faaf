import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** One SERMI access-log row, every column (docs/sermi.md#what-is-logged). */
export class AccessLogRecordDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'Id of the writing transaction (the sealing order)', example: '1234' }) txid: string;
  @ApiProperty({ description: 'UTC, microsecond precision', example: '2026-11-22T10:00:00.123456Z' })
  recordedAt: string;
  @ApiProperty({ enum: ['login', 'access'] }) kind: 'login' | 'access';
  @ApiPropertyOptional({ enum: ['web', 'passwordless'], nullable: true }) loginMethod: 'web' | 'passwordless' | null;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) accountId: string | null;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) sessionId: string | null;
  @ApiPropertyOptional({ enum: ['IOE', 'RSSE'], nullable: true }) actorType: 'IOE' | 'RSSE' | null;
  @ApiPropertyOptional({ type: String, nullable: true }) sub: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) cabuid: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) iouid: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) ioeuid: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) rssuid: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) rsseuid: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) vin: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) itemCode: string | null;
  @ApiPropertyOptional({ type: Boolean, nullable: true }) itemSecurityRelated: boolean | null;
  @ApiProperty({ enum: ['granted', 'denied'] }) decision: 'granted' | 'denied';
  @ApiProperty() reason: string;
  @ApiPropertyOptional({ type: String, nullable: true }) clientIp: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) userAgent: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) requestId: string | null;
}

export class AccessLogPageDto {
  @ApiProperty({ type: [AccessLogRecordDto] }) items: AccessLogRecordDto[];
  @ApiPropertyOptional({ type: String, nullable: true }) nextCursor: string | null;
}
