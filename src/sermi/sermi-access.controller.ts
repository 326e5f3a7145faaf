import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AppException } from '../common/problem/app-exception.js';
import { SessionCookie } from '../sessions/session-cookie.js';
import { clientMeta } from '../common/http/client-meta.js';
import { ApiSession } from '../common/openapi/problem-responses.js';
import type { SessionFacts } from '../access/authenticated-request.js';
import { CurrentSessionFacts, SessionCheckedByStatement } from '../access/auth.decorators.js';
import { CSRF_HEADER } from '../access/csrf.js';
import { AccessDecisionDto, AccessRequestDto } from './dto/access.dto.js';
import { type AccessResult, SermiAccessService } from './sermi-access.service.js';

@ApiTags('sermi')
@Controller('api/sermi')
export class SermiAccessController {
  constructor(
    private readonly access: SermiAccessService,
    private readonly cookie: SessionCookie,
  ) {}

  @Post('access')
  @HttpCode(200)
  @SessionCheckedByStatement()
  @ApiOperation({
    summary: 'May this session see an RMI item for a vehicle? Every decision is logged',
    description:
      'Non-security items are granted to every signed-in account. Security-related items need a fresh SERMI ' +
      'Trust Centre login; granted ones come with a signed access grant. Denials are answers (200), not errors.',
  })
  @ApiHeader({ name: CSRF_HEADER, required: true, description: 'csrfToken from GET /api/me' })
  @ApiOkResponse({ type: AccessDecisionDto })
  @ApiSession(400, 403, 404)
  async decide(
    @CurrentSessionFacts() session: SessionFacts,
    @Body() body: AccessRequestDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AccessDecisionDto> {
    try {
      const result = await this.access.decide({
        session,
        vin: body.vin,
        itemCode: body.item,
        returnTo: body.returnTo,
        ...clientMeta(req),
      });
      return toDto(result);
    } catch (error) {
      // The statement found the session ended (revoked from elsewhere, expired, the account disabled): as the guard
      // does with a dead cookie, it goes with the note that someone left this browser, so that the next login here
      // demands a new sign-in at the provider rather than riding on that person's single sign-on.
      if (error instanceof AppException && error.code === 'unauthenticated') this.cookie.clearEnded(res);
      throw error;
    }
  }
}

export function toDto(result: AccessResult): AccessDecisionDto {
  return {
    ...result,
    decidedAt: result.decidedAt.toISOString(),
    grant: result.grant ? { token: result.grant.token, expiresAt: result.grant.expiresAt.toISOString() } : null,
  };
}
