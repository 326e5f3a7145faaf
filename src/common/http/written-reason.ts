import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';

/** Longest reason or comment an administrator writes down (the audit event keeps it whole). */
export const WRITTEN_REASON_MAX = 1000;

/** A field an administrator must fill in to say why (a ticket, what was checked): text that is not only whitespace. */
export const WrittenReason = (description: string) =>
  applyDecorators(
    ApiProperty({ description, maxLength: WRITTEN_REASON_MAX }),
    IsString(),
    MaxLength(WRITTEN_REASON_MAX),
    Matches(/\S/, { message: '$property must not be empty' }),
  );
