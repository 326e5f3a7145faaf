import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiSession } from '../common/openapi/problem-responses.js';
import type { SessionPrincipal } from '../access/authenticated-request.js';
import { CurrentPrincipal, RequireRoles } from '../access/auth.decorators.js';
import { CSRF_HEADER } from '../access/csrf.js';
import { AUDIT_EVENT } from './audit-event-types.js';
import { AuditQueryService } from './audit-query.service.js';
import { AuditService } from './audit.service.js';
import { AuditEventPageDto, ChainVerificationDto } from './dto/audit-event.dto.js';
import { AuditEventQueryDto } from './dto/audit-event-query.dto.js';
import { RequestId } from '../common/request-context/request-context.js';

@ApiTags('admin')
@ApiSession(403)
@RequireRoles('admin')
@Controller('api/admin/audit-events')
export class AdminAuditController {
  constructor(
    private readonly query: AuditQueryService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Audit events, newest first, filtered by type, account and time range' })
  @ApiOkResponse({ type: AuditEventPageDto })
  @ApiSession(400, 403)
  async list(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
    @Query() query: AuditEventQueryDto,
  ): Promise<AuditEventPageDto> {
    const page = await this.query.list(query);
    await this.audit.recordListRead(
      AUDIT_EVENT.auditEventsViewed,
      principal.accountId,
      requestId,
      query,
      page.items.length,
    );
    return page;
  }

  @Post('verify')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Seal, then check the hash chain and report the first broken link (the run itself is audited)',
  })
  @ApiHeader({ name: CSRF_HEADER, required: true, description: 'csrfToken from GET /api/me' })
  @ApiOkResponse({ type: ChainVerificationDto })
  async verify(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
  ): Promise<ChainVerificationDto> {
    const result = await this.audit.verifyChain();
    await this.audit.record({
      type: AUDIT_EVENT.auditChainVerified,
      actor: { type: 'account', accountId: principal.accountId },
      requestId,
      details: {
        valid: result.valid,
        checkedEvents: result.checkedEvents,
        checkedSeals: result.checkedSeals,
        unsealedEvents: result.unsealedEvents,
        firstBroken: result.firstBroken,
        head: result.head,
      },
    });
    return result;
  }
}
