import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { toAccountDto, toIdentityLinkDto } from '../accounts/account.mapper.js';
import { AccountsService } from '../accounts/accounts.service.js';
import { ApiSession } from '../common/openapi/problem-responses.js';
import type { SessionPrincipal } from '../sessions/authenticated-request.js';
import { CurrentPrincipal } from '../sessions/auth.decorators.js';
import { csrfTokenFor } from '../sessions/session-token.js';
import { MeDto } from './dto/me.dto.js';

@ApiTags('me')
@ApiSession()
@Controller('api/me')
export class MeController {
  constructor(private readonly accounts: AccountsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'The signed-in account, its links and how this session was authenticated' })
  @ApiOkResponse({ type: MeDto })
  async me(@CurrentPrincipal() principal: SessionPrincipal): Promise<MeDto> {
    const { account, links } = await this.accounts.findWithLinks(principal.accountId);
    return {
      account: toAccountDto(account),
      links: links.map((link) => toIdentityLinkDto(link, { maskSubject: true })),
      session: {
        id: principal.sessionId,
        provider: principal.provider,
        identityLinkId: principal.identityLinkId,
        authenticatedAt: principal.authenticatedAt.toISOString(),
        authContext: principal.authContext,
        createdAt: principal.createdAt.toISOString(),
        idleExpiresAt: principal.idleExpiresAt.toISOString(),
        absoluteExpiresAt: principal.absoluteExpiresAt.toISOString(),
      },
      csrfToken: csrfTokenFor(principal.token),
    };
  }
}
