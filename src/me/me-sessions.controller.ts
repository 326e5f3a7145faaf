import { Controller, Delete, Get, Header, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { BrowserSignOut } from '../auth/browser-sign-out.js';
import { uuidParam } from '../common/http/uuid-param.js';
import { ApiSession } from '../common/openapi/problem-responses.js';
import { AppException } from '../common/problem/app-exception.js';
import { RequestId } from '../common/request-context/request-context.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { assertRecentAuthentication } from '../sessions/recent-authentication.js';
import type { SessionPrincipal } from '../access/authenticated-request.js';
import { CurrentPrincipal } from '../access/auth.decorators.js';
import { CSRF_HEADER } from '../access/csrf.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { RevokedSessionDto, RevokedSessionsDto, SessionListDto } from './dto/sessions.dto.js';

/**
 * A person's own sessions: which devices are signed in, and ending any of them (a workshop PC left signed in, a
 * lost phone). Ending another session needs a recent login of this one (LINK_RECENT_AUTH_SECONDS), so a stolen or
 * forgotten session cannot sign its owner out: whoever can sign in again at the provider wins. Ending this session
 * is a sign-out and needs nothing. Each is audited.
 */
@ApiTags('me')
@ApiSession()
@Controller('api/me/sessions')
export class MeSessionsController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectAppConfig() private readonly config: AppConfig,
    private readonly sessions: SessionsService,
    private readonly signOut: BrowserSignOut,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "The account's live sessions, most recently used first; `current` marks this one" })
  @ApiOkResponse({ type: SessionListDto })
  async list(@CurrentPrincipal() principal: SessionPrincipal): Promise<SessionListDto> {
    const { sessions, truncated } = await this.sessions.listLive(principal.accountId);
    return {
      truncated,
      sessions: sessions.map((session) => ({
        ...session,
        current: session.id === principal.sessionId,
        createdAt: session.createdAt.toISOString(),
        authenticatedAt: session.authenticatedAt?.toISOString() ?? null,
        lastSeenAt: session.lastSeenAt.toISOString(),
        expiresAt: session.expiresAt.toISOString(),
      })),
    };
  }

  @Post('revoke-others')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Ends every other live session of the account ("sign out everywhere else")',
    description:
      'Needs a recent login of this session (LINK_RECENT_AUTH_SECONDS); otherwise 403 reauthentication_required.',
  })
  @ApiHeader({ name: CSRF_HEADER, required: true, description: 'csrfToken from GET /api/me' })
  @ApiOkResponse({ type: RevokedSessionsDto })
  @ApiSession(403)
  async revokeOthers(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
  ): Promise<RevokedSessionsDto> {
    this.assertRecent(principal);
    const revoked = await this.dataSource.transaction(async (manager) => {
      const ids = await this.sessions.revokeOwn(principal.accountId, { allBut: principal.sessionId }, REASON, manager);
      if (ids.length > 0) {
        await this.audit.record(
          {
            type: AUDIT_EVENT.sessionsRevokedForAccount,
            actor: { type: 'account', accountId: principal.accountId },
            requestId,
            subjectAccountId: principal.accountId,
            details: { sessionIds: ids, keptSessionId: principal.sessionId, reason: REASON },
          },
          manager,
        );
      }
      return ids;
    });
    return { revokedSessions: revoked.length };
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Ends one live session of the account; ending this one signs out',
    description: 'Ending another session needs a recent login of this one, like signing out everywhere else.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiHeader({ name: CSRF_HEADER, required: true, description: 'csrfToken from GET /api/me' })
  @ApiOkResponse({ type: RevokedSessionDto })
  @ApiSession(400, 403, 404)
  async revoke(
    @CurrentPrincipal() principal: SessionPrincipal,
    @Param('id', uuidParam) id: string,
    @RequestId() requestId: string | null,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RevokedSessionDto> {
    const signedOut = id === principal.sessionId;
    if (!signedOut) this.assertRecent(principal);
    await this.dataSource.transaction(async (manager) => {
      const [revoked] = await this.sessions.revokeOwn(principal.accountId, { sessionId: id }, REASON, manager);
      // Another account's session, a revoked or an expired one: the same answer, so ids reveal nothing.
      if (!revoked) throw new AppException('session_not_found', 'No live session of this account has this id');
      await this.audit.record(
        {
          type: AUDIT_EVENT.sessionRevoked,
          actor: { type: 'account', accountId: principal.accountId },
          requestId,
          subjectAccountId: principal.accountId,
          details: { sessionId: id, bySessionId: principal.sessionId, reason: REASON },
        },
        manager,
      );
    });
    const providerLogoutUrl = signedOut ? await this.signOut.applyWithProviderRound(req, res) : undefined;
    return { revokedSessionId: id, signedOut, ...(providerLogoutUrl ? { providerLogoutUrl } : {}) };
  }

  private assertRecent(principal: SessionPrincipal): void {
    assertRecentAuthentication(principal, this.config.linking.recentAuthSeconds, this.config.http.publicBaseUrl, '/');
  }
}

const REASON = 'revoked_by_user';
