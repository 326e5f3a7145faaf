import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { ApiProblems } from '../common/openapi/problem-responses.js';
import type { SessionPrincipal } from '../sessions/authenticated-request.js';
import { OptionalPrincipal, SessionOptional } from '../sessions/auth.decorators.js';
import { CSRF_HEADER } from '../sessions/csrf.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { requestIdOf } from '../common/request-context/request-context.js';
import { BrowserSignOut } from './browser-sign-out.js';

@ApiTags('auth')
@Controller('auth')
export class LogoutController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly signOut: BrowserSignOut,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * A browser with an expired or unknown session can still clear its cookie; a live session is revoked
   * server-side, after the guard's CSRF check, so another site cannot sign the user out.
   */
  @SessionOptional()
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke the current session and clear its cookie' })
  @ApiHeader({ name: CSRF_HEADER, required: true, description: 'csrfToken from GET /api/me' })
  @ApiNoContentResponse({ description: 'Signed out (also when there was no live session)' })
  @ApiProblems(403)
  async logout(
    @OptionalPrincipal() principal: SessionPrincipal | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    if (principal) {
      await this.dataSource.transaction(async (manager) => {
        if (await this.sessions.revoke(principal.sessionId, 'logout', manager)) {
          await this.audit.record(
            {
              type: AUDIT_EVENT.sessionRevoked,
              actor: { type: 'account', accountId: principal.accountId },
              requestId: requestIdOf(req),
              subjectAccountId: principal.accountId,
              details: { sessionId: principal.sessionId, reason: 'logout' },
            },
            manager,
          );
        }
      });
    }
    await this.signOut.apply(req, res);
  }
}
