import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import { BrowserBinding, hashBinding } from '../login-transactions/browser-binding.js';
import { DataSource } from 'typeorm';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { ApiProblems } from '../common/openapi/problem-responses.js';
import type { SessionPrincipal } from '../sessions/authenticated-request.js';
import { OptionalPrincipal, SessionOptional } from '../sessions/auth.decorators.js';
import { CSRF_HEADER } from '../sessions/csrf.js';
import { SessionCookie } from '../sessions/session-cookie.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { requestIdOf } from '../common/request-context/request-context.js';

@ApiTags('auth')
@Controller('auth')
export class LogoutController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly cookie: SessionCookie,
    private readonly audit: AuditService,
    private readonly binding: BrowserBinding,
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
    // Identities this browser left pending are not for whoever signs in here next (a shared workshop PC).
    const binding = this.binding.read(req);
    if (binding) {
      await this.dataSource.query(
        `UPDATE pending_identities SET browser_binding_hash = NULL WHERE browser_binding_hash = $1 AND resolved_at IS NULL`,
        [hashBinding(binding)],
      );
      this.binding.clear(res);
    }
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
    this.cookie.clear(res);
  }
}
