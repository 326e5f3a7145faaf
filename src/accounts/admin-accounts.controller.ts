import { Body, Controller, Get, Param, Patch, Query } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { uuidParam } from '../common/http/uuid-param.js';
import { ApiSession } from '../common/openapi/problem-responses.js';
import type { SessionPrincipal } from '../access/authenticated-request.js';
import { CurrentPrincipal, RequireRoles } from '../access/auth.decorators.js';
import { CSRF_HEADER } from '../access/csrf.js';
import { toAccountDto, toIdentityLinkDto } from './account.mapper.js';
import { AccountsService } from './accounts.service.js';
import { AccountDetailDto, AccountDto, AccountPageDto } from './dto/account.dto.js';
import { AccountListQueryDto } from './dto/account-list-query.dto.js';
import { UpdateAccountDto } from './dto/update-account.dto.js';
import { RequestId } from '../common/request-context/request-context.js';

@ApiTags('admin')
@ApiSession(403)
@RequireRoles('admin')
@Controller('api/admin/accounts')
export class AdminAccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Search accounts (newest first)' })
  @ApiOkResponse({ type: AccountPageDto })
  @ApiSession(400, 403)
  async list(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
    @Query() query: AccountListQueryDto,
  ): Promise<AccountPageDto> {
    const page = await this.accounts.search(query);
    await this.audit.recordListRead(
      AUDIT_EVENT.accountsSearched,
      principal.accountId,
      requestId,
      query,
      page.items.length,
    );
    return { items: page.items.map(toAccountDto), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One account with its identity links' })
  @ApiOkResponse({ type: AccountDetailDto })
  @ApiSession(400, 403, 404)
  async get(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
    @Param('id', uuidParam) id: string,
  ): Promise<AccountDetailDto> {
    const { account, links, activeSessions } = await this.accounts.findWithLinks(id);
    // Admins see full provider subjects here: who looked at whom is itself on the record.
    await this.audit.record({
      type: AUDIT_EVENT.accountViewed,
      actor: { type: 'account', accountId: principal.accountId },
      requestId,
      subjectAccountId: account.id,
    });
    return {
      ...toAccountDto(account),
      links: links.map((link) => toIdentityLinkDto(link, { maskSubject: false })),
      activeSessions,
    };
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change status and/or roles (audited; disabling revokes all sessions)' })
  @ApiHeader({ name: CSRF_HEADER, required: true, description: 'csrfToken from GET /api/me' })
  @ApiOkResponse({ type: AccountDto })
  @ApiSession(400, 403, 404, 409)
  async update(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
    @Param('id', uuidParam) id: string,
    @Body() body: UpdateAccountDto,
  ): Promise<AccountDto> {
    return toAccountDto(await this.accounts.updateByAdmin(principal.accountId, id, body, requestId));
  }
}
