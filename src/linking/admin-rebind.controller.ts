import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuditService } from '../audit/audit.service.js';
import { uuidParam } from '../common/http/uuid-param.js';
import { ApiSession } from '../common/openapi/problem-responses.js';
import type { SessionPrincipal } from '../access/authenticated-request.js';
import { CurrentPrincipal, RequireRoles } from '../access/auth.decorators.js';
import { CSRF_HEADER } from '../access/csrf.js';
import {
  AdminPendingIdentityPageDto,
  DecideRebindDto,
  PendingIdentityQueryDto,
  RebindDto,
  RebindOutcomeDto,
  RebindRequestDto,
  RebindRequestListDto,
  RebindRequestQueryDto,
  RejectRebindDto,
} from './dto/rebind.dto.js';
import { RebindService } from './rebind.service.js';
import { RequestId } from '../common/request-context/request-context.js';

@ApiTags('admin')
@ApiSession(403)
@RequireRoles('admin')
@Controller('api/admin')
export class AdminRebindController {
  constructor(
    private readonly rebinds: RebindService,
    private readonly audit: AuditService,
  ) {}

  @Get('pending-identities')
  @ApiOperation({ summary: 'Verified identities no account took, newest first, with review hints' })
  @ApiOkResponse({ type: AdminPendingIdentityPageDto })
  @ApiSession(400, 403)
  async pendingIdentities(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
    @Query() query: PendingIdentityQueryDto,
  ): Promise<AdminPendingIdentityPageDto> {
    const page = await this.rebinds.listPending(query);
    await this.audit.recordListRead(
      'identity.pending_listed',
      principal.accountId,
      requestId,
      query,
      page.items.length,
    );
    return page;
  }

  @Post('accounts/:id/rebind')
  @ApiOperation({
    summary: "Point the account's link for the pending identity's provider at that identity",
    description:
      'One transaction: link replaced (or added), old-subject sessions revoked, identity.rebound audited with old and new subject. With REBIND_FOUR_EYES=true the answer is 202 and a different admin must approve.',
  })
  @ApiHeader({ name: CSRF_HEADER, required: true, description: 'csrfToken from GET /api/me' })
  @ApiOkResponse({ type: RebindOutcomeDto, description: '200 applied, 202 requested (four-eyes)' })
  @ApiSession(400, 403, 404, 409, 410)
  async rebind(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
    @Param('id', uuidParam) accountId: string,
    @Body() body: RebindDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RebindOutcomeDto> {
    const outcome = await this.rebinds.rebind(
      { adminId: principal.accountId, requestId },
      accountId,
      body.pendingIdentityId,
      body.reason,
    );
    res.status(outcome.status === 'applied' ? 200 : 202);
    return outcome;
  }

  @Get('rebind-requests')
  @ApiOperation({ summary: 'Four-eyes re-bind requests, newest first' })
  @ApiOkResponse({ type: RebindRequestListDto })
  @ApiSession(400, 403)
  async requests(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
    @Query() query: RebindRequestQueryDto,
  ): Promise<RebindRequestListDto> {
    const list = await this.rebinds.listRequests(query);
    // The requests' reasons name people and tickets: who read them is on the record, like every admin read.
    await this.audit.recordListRead(
      'identity.rebind_requests_listed',
      principal.accountId,
      requestId,
      query,
      list.items.length,
    );
    return list;
  }

  @Post('rebind-requests/:id/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve (a different admin than the requester): the re-bind is applied' })
  @ApiHeader({ name: CSRF_HEADER, required: true, description: 'csrfToken from GET /api/me' })
  @ApiOkResponse({ type: RebindOutcomeDto })
  @ApiSession(400, 403, 404, 409, 410)
  approve(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
    @Param('id', uuidParam) id: string,
    @Body() body: DecideRebindDto,
  ): Promise<RebindOutcomeDto> {
    return this.rebinds.approve({ adminId: principal.accountId, requestId }, id, body.comment);
  }

  @Post('rebind-requests/:id/reject')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reject (a different admin than the requester)' })
  @ApiHeader({ name: CSRF_HEADER, required: true, description: 'csrfToken from GET /api/me' })
  @ApiOkResponse({ type: RebindRequestDto })
  @ApiSession(400, 403, 404, 409, 410)
  reject(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
    @Param('id', uuidParam) id: string,
    @Body() body: RejectRebindDto,
  ): Promise<RebindRequestDto> {
    return this.rebinds.reject({ adminId: principal.accountId, requestId }, id, body.comment);
  }
}
