import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { AppException } from '../common/problem/app-exception.js';
import { ERROR_STATUS, type ErrorCode } from '../common/problem/error-codes.js';
import { ApiProblems } from '../common/openapi/problem-responses.js';
import { Public } from '../sessions/auth.decorators.js';

const CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

class LoginErrorQueryDto {
  @ApiPropertyOptional({ enum: CODES })
  @IsIn(CODES)
  code: ErrorCode;
}

@ApiTags('auth')
@Controller('auth')
export class LoginErrorController {
  /** The default LOGIN_ERROR_URL: explains a login failure code as problem+json (portals set their own page). */
  @Public()
  @Get('login-error')
  @ApiOperation({ summary: 'What a login failure code means (the default LOGIN_ERROR_URL)' })
  @ApiProblems(400, 403, 404, 410, 502, 503)
  explain(@Query() query: LoginErrorQueryDto): never {
    throw new AppException(query.code);
  }
}
