import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { AuditService } from '../../audit/audit.service.js';
import { ApiSession } from '../../common/openapi/problem-responses.js';
import type { SessionPrincipal } from '../../access/authenticated-request.js';
import { CurrentPrincipal, RequireRoles } from '../../access/auth.decorators.js';
import { CSRF_HEADER } from '../../access/csrf.js';
import type { LogVerification } from './log-chain.js';
import { SermiLogVerifier } from './sermi-log-verifier.js';
import { RequestId } from '../../common/request-context/request-context.js';

class ChainHeadDto {
  @ApiProperty() seq: string;
  @ApiProperty({ description: 'hex' }) hash: string;
}

class LogBreakDto {
  @ApiProperty() sealSeq: string;
  @ApiProperty({
    enum: [
      'seal_gap',
      'previous_hash_mismatch',
      'seal_hash_mismatch',
      'record_changed',
      'record_missing',
      'record_unexpected',
    ],
  })
  problem: string;
  @ApiPropertyOptional({ format: 'uuid' }) recordId?: string;
}

export class LogVerificationDto {
  @ApiProperty() valid: boolean;
  @ApiProperty() checkedSeals: number;
  @ApiProperty() checkedRecords: number;
  @ApiProperty({ description: 'Written since the last seal (sealed within SERMI_LOG_SEAL_INTERVAL_MS)' })
  unsealedRecords: number;
  @ApiProperty({ type: String, nullable: true, description: 'The retention purge anchor verification started at' })
  anchorSealSeq: string | null;
  @ApiProperty({ type: ChainHeadDto, nullable: true }) head: ChainHeadDto | null;
  @ApiProperty({ type: LogBreakDto, nullable: true }) firstBroken: LogBreakDto | null;
}

@ApiTags('admin')
@ApiSession(403)
@RequireRoles('admin')
@Controller('api/admin/sermi/access-log')
export class AdminAccessLogChainController {
  constructor(
    private readonly verifier: SermiLogVerifier,
    private readonly audit: AuditService,
  ) {}

  @Post('verify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Check the access log hash chain and report the first broken seal or record (audited)' })
  @ApiHeader({ name: CSRF_HEADER, required: true, description: 'csrfToken from GET /api/me' })
  @ApiOkResponse({ type: LogVerificationDto })
  async verify(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
  ): Promise<LogVerification> {
    const result = await this.verifier.verify();
    await this.audit.record({
      type: 'sermi.access_log_verified',
      actor: { type: 'account', accountId: principal.accountId },
      requestId,
      details: { ...result },
    });
    return result;
  }
}
