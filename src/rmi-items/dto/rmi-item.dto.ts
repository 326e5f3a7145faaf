import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class RmiItemDto {
  @ApiProperty({ example: 'IMMO.KEY-PROGRAMMING' }) code: string;
  @ApiProperty() title: string;
  @ApiProperty({ description: 'Security-related items are released only to SERMI-authorised users' })
  securityRelated: boolean;
  @ApiProperty({ type: String, nullable: true }) category: string | null;
  @ApiProperty({ type: String, nullable: true }) notes: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class RmiItemPageDto {
  @ApiProperty({ type: [RmiItemDto] }) items: RmiItemDto[];
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` to get the next page; null on the last page',
  })
  nextCursor: string | null;
}

export class RmiItemImportResultDto {
  @ApiProperty() created: number;
  @ApiProperty({ description: 'Existing items whose stored values differed from the import' }) updated: number;
  @ApiProperty({ description: 'Existing items the import already matched (not audited)' }) unchanged: number;
  @ApiProperty() total: number;
}
