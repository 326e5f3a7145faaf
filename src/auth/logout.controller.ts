import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { ApiProblems } from '../common/openapi/problem-responses.js';
import type { AppConfig } from '../config/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Public } from '../sessions/auth.decorators.js';
import { assertSameOriginRequest, CSRF_HEADER } from '../sessions/csrf.js';
import { SessionCookie } from '../sessions/session-cookie.js';
import { SessionsService } from '../sessions/sessions.service.js';

@ApiTags('auth')
@Controller('auth')
export class LogoutController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly cookie: SessionCookie,
    private readonly audit: AuditService,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  /**
   * Public so that a browser with an expired or unknown session can still clear its cookie; a live session is
   * revoked server-side (after the CSRF check, so another site cannot sign the user out).
   */
  @Public()
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke the current session and clear its cookie' })
  @ApiHeader({ name: CSRF_HEADER, required: true, description: 'csrfToken from GET /api/me' })
  @ApiNoContentResponse({ description: 'Signed out (also when there was no live session)' })
  @ApiProblems(403)
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    const token = this.cookie.read(req);
    const principal = token ? await this.sessions.authenticate(token) : null;
    if (principal) {
      assertSameOriginRequest(req, principal.token, this.config.http.trustedOrigins);
      await this.dataSource.transaction(async (manager) => {
        if (await this.sessions.revoke(principal.sessionId, 'logout', manager)) {
          await this.audit.record(
            {
              type: AUDIT_EVENT.sessionRevoked,
              actor: { type: 'account', accountId: principal.accountId },
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
