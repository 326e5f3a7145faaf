import { Body, Controller, Get, Param, Post, Query, Req, Res, UseFilters, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiExcludeController, ApiHideProperty } from '@nestjs/swagger';
import { Allow, IsIn, IsUUID } from 'class-validator';
import type { Request, Response } from 'express';
import { AdminAccountsController } from '../../accounts/admin-accounts.controller.js';
import { AccountListQueryDto } from '../../accounts/dto/account-list-query.dto.js';
import { UpdateAccountDto } from '../../accounts/dto/update-account.dto.js';
import { AdminAuditController } from '../../audit/admin-audit.controller.js';
import { AuditEventQueryDto } from '../../audit/dto/audit-event-query.dto.js';
import { pendingReference } from '../../auth/login-outcome-pages.js';
import { AppValidationPipe } from '../../common/http/validation.pipe.js';
import { uuidParam } from '../../common/http/uuid-param.js';
import { WrittenReason } from '../../common/http/written-reason.js';
import { AppException } from '../../common/problem/app-exception.js';
import { requestIdOf } from '../../common/request-context/request-context.js';
import type { AppConfig } from '../../app/app.config.js';
import { InjectAppConfig } from '../../config/config.module.js';
import { AdminRebindController } from '../../linking/admin-rebind.controller.js';
import { RebindService } from '../../linking/rebind.service.js';
import {
  DecideRebindDto,
  PendingIdentityQueryDto,
  RebindDto,
  RebindRequestQueryDto,
  RejectRebindDto,
} from '../../linking/dto/rebind.dto.js';
import { AdminRmiItemsController } from '../../rmi-items/admin-rmi-items.controller.js';
import { RmiItemListQueryDto } from '../../rmi-items/dto/rmi-item-list-query.dto.js';
import { AdminAccessLogController } from '../../sermi/access-log/admin-access-log.controller.js';
import { AccessLogQueryDto } from '../../sermi/access-log/dto/access-log-query.dto.js';
import type { SessionPrincipal } from '../../access/authenticated-request.js';
import { AdminArea, OptionalPrincipal, SessionOptional } from '../../access/auth.decorators.js';
import { SessionsService } from '../../sessions/sessions.service.js';
import { PageErrorFilter } from '../common/page-error.filter.js';
import { seeOther } from '../common/page-forms.js';
import { errorText, noticeText, withMessage } from '../common/page-messages.js';
import { SingleQueryValues } from '../common/single-query-values.js';
import { PageRenderer, viewerOf } from '../common/page-renderer.js';
import { PROVIDER_NAMES } from '../common/provider-names.js';

/**
 * The written reason of an admin change, as the form sends it: checked only by the API's own DTO (queryAs), whose
 * refusal brings the person back to the form with what was wrong, rather than to an error page.
 */
class ReasonFormDto {
  @ApiHideProperty()
  @Allow()
  reason: unknown;
}

class RebindFormDto extends ReasonFormDto {
  @ApiHideProperty()
  @IsUUID()
  accountId: string;
}

/** A decision's comment, as the form sends it: checked only by the API's own DTO (queryAs), as the reason is. */
class DecisionFormDto {
  @ApiHideProperty()
  @Allow()
  comment: unknown;
}

/** The reason's own rules (the API's, WrittenReason): checked before a change reads the account. */
class ChangeReasonDto {
  @WrittenReason('Why')
  reason: string;
}

class AccountChangeFormDto extends ReasonFormDto {
  @ApiHideProperty()
  @IsIn(['make_admin', 'remove_admin', 'disable', 'enable'])
  change: 'make_admin' | 'remove_admin' | 'disable' | 'enable';
}

const pipe = new AppValidationPipe();

/** A GET form's fields as the REST API's query DTO would have them: empty fields left out, then validated. */
async function queryAs<T extends object>(dto: Type<T>, raw: Record<string, unknown>, drop: string[] = []): Promise<T> {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (drop.includes(key) || value === '' || value === undefined) continue;
    // datetime-local fields give minutes without a zone; the form says they are UTC.
    plain[key] =
      typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(value) ? `${value}:00Z` : (value as unknown);
  }
  return (await pipe.transform(plain, { type: 'query', metatype: dto })) as T;
}

function queryString(values: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * The support-desk console (admins): pending identities with their review hints, accounts found by name or exact
 * UID with links, sessions and audit trail, re-binding (four-eyes requests approved or rejected by a second admin),
 * the SERMI access log with export, and the RMI item classification with CSV import. Every read and change is the
 * admin REST API's own handler, so it is validated and audited exactly as the API is.
 */
@ApiExcludeController()
@AdminArea()
@SessionOptional()
@UseFilters(PageErrorFilter)
@Controller('console')
export class ConsolePageController {
  constructor(
    private readonly pages: PageRenderer,
    private readonly moduleRef: ModuleRef,
    private readonly sessions: SessionsService,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  @Get()
  async overview(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Query(SingleQueryValues) raw: Record<string, string>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const admin = this.admin(principal);
    let error = errorText(raw.error);
    let pending: Awaited<ReturnType<AdminRebindController['pendingIdentities']>> = { items: [], nextCursor: null };
    const filters = { status: raw.status, provider: raw.provider, reason: raw.reason, reference: raw.reference };
    try {
      const query = await queryAs(PendingIdentityQueryDto, { ...filters, cursor: raw.cursor });
      pending = await this.api(AdminRebindController).pendingIdentities(admin, requestIdOf(req), query);
    } catch (failure) {
      error = this.refusal(failure);
    }
    const openRequests = await this.api(RebindService).countOpenRequests();
    this.render(req, res, admin, 'console/overview.njk', 'Support desk', {
      notice: noticeText(raw.notice),
      error,
      filters,
      providers: Object.entries(PROVIDER_NAMES).map(([id, p]) => ({ id, name: p.name })),
      pending: pending.items.map((item) => ({ ...item, providerName: PROVIDER_NAMES[item.provider].name })),
      nextPage: pending.nextCursor ? queryString({ ...filters, cursor: pending.nextCursor }) : null,
      openRequests,
      fourEyes: this.config.linking.fourEyes,
    });
  }

  @Get('pending/:id')
  async pendingIdentity(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Param('id', uuidParam) id: string,
    @Query(SingleQueryValues) raw: Record<string, string>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const admin = this.admin(principal);
    const query = await queryAs(PendingIdentityQueryDto, { status: 'all', reference: pendingReference(id) });
    const found = (await this.api(AdminRebindController).pendingIdentities(admin, requestIdOf(req), query)).items.find(
      (item) => item.id === id,
    );
    if (!found) throw new AppException('pending_identity_not_found', 'No pending identity with this id');
    let error = errorText(raw.error);
    let candidates: Array<{ id: string; displayName: string; status: string }> = [];
    if (raw.q) {
      try {
        const search = await queryAs(AccountListQueryDto, { q: raw.q, limit: '20' });
        candidates = (await this.api(AdminAccountsController).list(admin, requestIdOf(req), search)).items;
      } catch (failure) {
        error = this.refusal(failure);
      }
    }
    if (found.suspectedAccount && !candidates.some((c) => c.id === found.suspectedAccount!.id)) {
      candidates.unshift({ ...found.suspectedAccount, status: 'suspected' });
    }
    this.render(req, res, admin, 'console/pending.njk', `Pending identity ${found.reference}`, {
      error,
      pending: { ...found, providerName: PROVIDER_NAMES[found.provider].name },
      q: raw.q ?? '',
      candidates,
      fourEyes: this.config.linking.fourEyes,
    });
  }

  @Post('pending/:id/rebind')
  async rebind(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Param('id', uuidParam) id: string,
    @Body() body: RebindFormDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const admin = this.admin(principal);
    await this.act(res, `/console/pending/${id}`, async () => {
      // The API's own rules (a reason that says something), which calling its handler directly would skip.
      const rebind = await queryAs(RebindDto, { pendingIdentityId: id, reason: body.reason });
      const outcome = await this.api(AdminRebindController).rebind(
        admin,
        requestIdOf(req),
        body.accountId,
        rebind,
        res,
      );
      return outcome.status === 'applied'
        ? withMessage(`/console/accounts/${body.accountId}`, 'notice', 'rebind_applied')
        : withMessage('/console/requests', 'notice', 'rebind_requested');
    });
  }

  @Get('accounts')
  async accounts(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Query(SingleQueryValues) raw: Record<string, string>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const admin = this.admin(principal);
    let error: string | null = null;
    let page: Awaited<ReturnType<AdminAccountsController['list']>> | null = null;
    const filters = { q: raw.q, status: raw.status, role: raw.role };
    if (Object.values(filters).some((value) => value)) {
      try {
        const query = await queryAs(AccountListQueryDto, { ...filters, cursor: raw.cursor });
        page = await this.api(AdminAccountsController).list(admin, requestIdOf(req), query);
      } catch (failure) {
        error = this.refusal(failure);
      }
    }
    this.render(req, res, admin, 'console/accounts.njk', 'Find an account', {
      error,
      filters,
      accounts: page?.items ?? null,
      nextPage: page?.nextCursor ? queryString({ ...filters, cursor: page.nextCursor }) : null,
    });
  }

  @Get('accounts/:id')
  async account(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Param('id', uuidParam) id: string,
    @Query(SingleQueryValues) raw: Record<string, string>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const admin = this.admin(principal);
    const account = await this.api(AdminAccountsController).get(admin, requestIdOf(req), id);
    const audit = await this.api(AdminAuditController).list(
      admin,
      requestIdOf(req),
      await queryAs(AuditEventQueryDto, { accountId: id, limit: '50' }),
    );
    const { sessions, truncated } = await this.sessions.listLive(id);
    this.render(req, res, admin, 'console/account.njk', account.displayName, {
      notice: noticeText(raw.notice),
      error: errorText(raw.error),
      account: {
        ...account,
        links: account.links.map((link) => ({ ...link, providerName: PROVIDER_NAMES[link.provider].name })),
      },
      isSelf: id === admin.accountId,
      isAdmin: account.roles.includes('admin'),
      operatorAppointsAdmins: this.config.linking.fourEyes,
      sessions,
      truncated,
      audit: audit.items,
      moreAudit: audit.nextCursor !== null,
    });
  }

  @Post('accounts/:id/update')
  async updateAccount(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Param('id', uuidParam) id: string,
    @Body() body: AccountChangeFormDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const admin = this.admin(principal);
    const back = `/console/accounts/${id}`;
    await this.act(res, back, async () => {
      // A change refused for its reason reads nothing, so it records no look at the account either.
      await queryAs(ChangeReasonDto, { reason: body.reason });
      const accounts = this.api(AdminAccountsController);
      const current = await accounts.get(admin, requestIdOf(req), id);
      const roles = current.roles.filter((role) => role !== 'admin');
      const change =
        body.change === 'make_admin'
          ? { roles: [...roles, 'admin' as const] }
          : body.change === 'remove_admin'
            ? { roles }
            : { status: body.change === 'disable' ? ('disabled' as const) : ('active' as const) };
      // The API's own rules (a reason that says something), which calling its handler directly would skip.
      await accounts.update(
        admin,
        requestIdOf(req),
        id,
        await queryAs(UpdateAccountDto, { ...change, reason: body.reason }),
      );
      return withMessage(back, 'notice', 'account_updated');
    });
  }

  @Get('requests')
  async requests(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Query(SingleQueryValues) raw: Record<string, string>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const admin = this.admin(principal);
    const status = raw.status || 'requested';
    let error = errorText(raw.error);
    let page: Awaited<ReturnType<AdminRebindController['requests']>> = { items: [], nextCursor: null };
    try {
      const query = await queryAs(RebindRequestQueryDto, {
        ...(status === 'all' ? {} : { status }),
        cursor: raw.cursor,
      });
      page = await this.api(AdminRebindController).requests(admin, requestIdOf(req), query);
    } catch (failure) {
      error = this.refusal(failure);
    }
    this.render(req, res, admin, 'console/requests.njk', 'Re-bind requests', {
      notice: noticeText(raw.notice),
      error,
      status,
      requests: page.items.map((item) => ({ ...item, mine: item.requestedBy === admin.accountId })),
      nextPage: page.nextCursor ? queryString({ status, cursor: page.nextCursor }) : null,
      fourEyes: this.config.linking.fourEyes,
    });
  }

  @Post('requests/:id/approve')
  async approve(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Param('id', uuidParam) id: string,
    @Body() body: DecisionFormDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const admin = this.admin(principal);
    await this.act(res, '/console/requests', async () => {
      const approval = await queryAs(DecideRebindDto, { comment: body.comment });
      await this.api(AdminRebindController).approve(admin, requestIdOf(req), id, approval);
      return withMessage('/console/requests?status=all', 'notice', 'rebind_approved');
    });
  }

  @Post('requests/:id/reject')
  async reject(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Param('id', uuidParam) id: string,
    @Body() body: DecisionFormDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const admin = this.admin(principal);
    await this.act(res, '/console/requests', async () => {
      const rejection = await queryAs(RejectRebindDto, { comment: body.comment });
      await this.api(AdminRebindController).reject(admin, requestIdOf(req), id, rejection);
      return withMessage('/console/requests?status=all', 'notice', 'rebind_rejected');
    });
  }

  @Get('access-log')
  async accessLog(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Query(SingleQueryValues) raw: Record<string, string>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const admin = this.admin(principal);
    const { cursor, ...fields } = raw;
    const filters = {
      from: fields.from,
      to: fields.to,
      ioeuid: fields.ioeuid,
      iouid: fields.iouid,
      rsseuid: fields.rsseuid,
      vin: fields.vin,
      decision: fields.decision,
      kind: fields.kind,
      accountId: fields.accountId,
    };
    let error: string | null = null;
    let page: Awaited<ReturnType<AdminAccessLogController['list']>> = { items: [], nextCursor: null };
    let exportQuery = '';
    try {
      const query = await queryAs(AccessLogQueryDto, { ...filters, cursor });
      page = await this.api(AdminAccessLogController).list(admin, requestIdOf(req), query);
      const { limit: _limit, cursor: _cursor, ...validFilters } = query;
      exportQuery = queryString(validFilters);
    } catch (failure) {
      error = this.refusal(failure);
    }
    const separator = exportQuery ? '&' : '?';
    this.render(req, res, admin, 'console/access-log.njk', 'SERMI access log', {
      error,
      filters,
      records: page.items,
      nextPage: page.nextCursor ? queryString({ ...filters, cursor: page.nextCursor }) : null,
      exportCsv: error ? null : `/api/admin/sermi/access-log/export${exportQuery}${separator}format=csv`,
      exportNdjson: error ? null : `/api/admin/sermi/access-log/export${exportQuery}${separator}format=ndjson`,
    });
  }

  @Get('rmi-items')
  async rmiItems(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Query(SingleQueryValues) raw: Record<string, string>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const admin = this.admin(principal);
    const filters = { q: raw.q, securityRelated: raw.securityRelated, category: raw.category };
    let error: string | null = null;
    let page: Awaited<ReturnType<AdminRmiItemsController['list']>> = { items: [], nextCursor: null };
    try {
      page = await this.api(AdminRmiItemsController).list(
        await queryAs(RmiItemListQueryDto, { ...filters, cursor: raw.cursor, limit: '100' }),
      );
    } catch (failure) {
      error = this.refusal(failure);
    }
    this.render(req, res, admin, 'console/rmi-items.njk', 'RMI item classification', {
      error,
      filters,
      items: page.items,
      nextPage: page.nextCursor ? queryString({ ...filters, cursor: page.nextCursor }) : null,
      scripts: ['console-import.js'],
    });
  }

  /** Admins only; the error filter shows anyone else how administrators are appointed. */
  private admin(principal: SessionPrincipal | undefined): SessionPrincipal {
    if (!principal) throw new AppException('unauthenticated', 'Sign in to continue');
    if (!principal.roles.includes('admin')) throw new AppException('forbidden', 'Requires the admin role');
    return principal;
  }

  private api<T>(controller: Type<T>): T {
    return this.moduleRef.get(controller, { strict: false });
  }

  private refusal(failure: unknown): string | null {
    if (!(failure instanceof AppException)) throw failure;
    const fields = (failure.extensions?.errors as Array<{ field: string; message: string }> | undefined) ?? [];
    const detail = fields.map((f) => f.message).join('; ');
    return `${errorText(failure.code) ?? failure.code}${detail ? ` (${detail})` : ''}`;
  }

  private async act(res: Response, back: string, action: () => Promise<string>): Promise<void> {
    let next: string;
    try {
      next = await action();
    } catch (error) {
      if (!(error instanceof AppException)) throw error;
      next = withMessage(back, 'error', error.code);
    }
    seeOther(res, next);
  }

  private render(
    req: Request,
    res: Response,
    admin: SessionPrincipal,
    template: string,
    title: string,
    context: Record<string, unknown>,
  ): void {
    this.pages.render(req, res, template, { title, nav: 'console', viewer: viewerOf(admin), ...context });
  }
}
