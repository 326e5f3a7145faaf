import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { maskSubject, toAccountDto } from '../accounts/account.mapper.js';
import { ApiSession } from '../common/openapi/problem-responses.js';
import type { SessionPrincipal } from '../access/authenticated-request.js';
import { CurrentPrincipal } from '../access/auth.decorators.js';
import { csrfTokenFor } from '../access/session-token.js';
import { MeDto } from './dto/me.dto.js';

@ApiTags('me')
@ApiSession()
@Controller('api/me')
export class MeController {
  /** Answered from what the session lookup already loaded: no further query. */
  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'The signed-in account, its links and how this session was authenticated' })
  @ApiOkResponse({ type: MeDto })
  me(@CurrentPrincipal() principal: SessionPrincipal): MeDto {
    return {
      account: toAccountDto(principal.account),
      links: principal.links.map((link) => ({ ...link, subject: maskSubject(link.subject) })),
      session: {
        id: principal.sessionId,
        provider: principal.provider,
        identityLinkId: principal.identityLinkId,
        authenticatedAt: principal.authenticatedAt?.toISOString() ?? null,
        authContext: principal.authContext,
        createdAt: principal.createdAt.toISOString(),
        idleExpiresAt: principal.idleExpiresAt.toISOString(),
        absoluteExpiresAt: principal.absoluteExpiresAt.toISOString(),
      },
      csrfToken: csrfTokenFor(principal.token),
    };
  }
}
