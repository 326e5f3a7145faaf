import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength } from 'class-validator';
import { AsciiUpperCase } from '../../../common/http/ascii-upper-case.js';
import { IsDateTimeString } from '../../../common/http/date-time.js';
import { VIN_PATTERN } from '../../access-rules.js';
import { PageCursor, PageLimit } from '../../../common/http/page-query.js';

export const ACCESS_LOG_KINDS = ['login', 'access'] as const;
export const ACCESS_LOG_DECISIONS = ['granted', 'denied'] as const;
export const ACCESS_LOG_EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type AccessLogExportFormat = (typeof ACCESS_LOG_EXPORT_FORMATS)[number];

/** SERMI UIDs are stored raw (docs/sermi.md#uid-formats); a filter only has to be one line of printable text. */
const NO_CONTROL_CHARACTERS = /^[^\p{Cc}]+$/u;

function UidFilter(): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    IsString(),
    MinLength(1),
    MaxLength(300),
    Matches(NO_CONTROL_CHARACTERS, { message: '$property must not contain control characters' }),
  );
}

/** Filters shared by the paged list and the export. */
export class AccessLogFilterDto {
  @ApiPropertyOptional({ format: 'date-time', description: 'Inclusive lower bound on recordedAt (RFC 3339)' })
  @IsOptional()
  @IsDateTimeString()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Exclusive upper bound on recordedAt (RFC 3339)' })
  @IsOptional()
  @IsDateTimeString()
  to?: string;

  @ApiPropertyOptional({
    description: 'Exact IOEUID (the principal)',
    maxLength: 300,
    example: 'NL/EXAMPLECAB/1234567890B',
  })
  @UidFilter()
  ioeuid?: string;

  @ApiPropertyOptional({
    description: 'Exact IOUID',
    maxLength: 300,
    example: 'EXAMPLEIO/WALDORPSTRAAT13FTHEHAGUE2521CA/NL123456789B01',
  })
  @UidFilter()
  iouid?: string;

  @ApiPropertyOptional({ description: 'Exact RSSEUID (the actor of a chain login)', maxLength: 300 })
  @UidFilter()
  rsseuid?: string;

  @ApiPropertyOptional({ description: 'VIN (ISO 3779, case-insensitive)', example: 'WVWZZZ1JZXW000001' })
  @IsOptional()
  @IsString()
  @AsciiUpperCase()
  @Matches(VIN_PATTERN, { message: 'vin must be 17 characters: digits and letters except I, O and Q' })
  vin?: string;

  @ApiPropertyOptional({ enum: ACCESS_LOG_DECISIONS })
  @IsOptional()
  @IsIn(ACCESS_LOG_DECISIONS)
  decision?: (typeof ACCESS_LOG_DECISIONS)[number];

  @ApiPropertyOptional({ enum: ACCESS_LOG_KINDS })
  @IsOptional()
  @IsIn(ACCESS_LOG_KINDS)
  kind?: (typeof ACCESS_LOG_KINDS)[number];

  @ApiPropertyOptional({ format: 'uuid', description: 'Records of this portal account' })
  @IsOptional()
  @IsUUID()
  accountId?: string;
}

export class AccessLogQueryDto extends AccessLogFilterDto {
  @PageLimit(200, 50)
  limit: number = 50;

  @PageCursor()
  cursor?: string;
}

export class AccessLogExportQueryDto extends AccessLogFilterDto {
  @ApiPropertyOptional({ enum: ACCESS_LOG_EXPORT_FORMATS, default: 'csv' })
  @IsOptional()
  @IsIn(ACCESS_LOG_EXPORT_FORMATS)
  format: AccessLogExportFormat = 'csv';
}
