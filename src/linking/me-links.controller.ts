import { Body, Controller, Delete, Get, Header, Param, Post, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { BrowserSignOut } from '../auth/browser-sign-out.js';
import { clientMeta } from '../common/http/client-meta.js';
import { AppException } from '../common/problem/app-exception.js';
import { uuidParam } from '../common/http/uuid-param.js';
import { ApiLoginStartLimit, ApiSession } from '../common/openapi/problem-responses.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { IDENTITY_PROVIDERS, type IdentityProvider } from '../common/identity-providers.js';
import { BrowserBinding } from '../login-transactions/browser-binding.js';
import { safeReturnTo } from '../login-transactions/return-to.js';
import type { SessionPrincipal } from '../access/authenticated-request.js';
import { CurrentPrincipal } from '../access/auth.decorators.js';
import { CSRF_HEADER } from '../access/csrf.js';
import { LinkListDto, RemovedLinkDto, StartedLinkDto, StartLinkDto } from './dto/links.dto.js';
import { LinkingService } from './linking.service.js';
import { RequestId } from '../common/request-context/request-context.js';

const providerParam = {
  transform(value: string): IdentityProvider {
    if (!(IDENTITY_PROVIDERS as readonly string[]).includes(value)) {
      throw new AppException('validation_failed', 'Unknown identity provider', {
        errors: [
          { field: 'provider', rule: 'isIn', message: `provider must be one of ${IDENTITY_PROVIDERS.join(', ')}` },
        ],
      });
    }
    return value as IdentityProvider;
  },
};

@ApiTags('me')
@ApiSession()
@Controller('api/me/links')
export class MeLinksController {
  constructor(
    private readonly linking: LinkingService,
    private readonly binding: BrowserBinding,
    private readonly signOut: BrowserSignOut,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "The account's login methods (provider subjects shown in part)" })
  @ApiOkResponse({ type: LinkListDto })
  list(@CurrentPrincipal() principal: SessionPrincipal): LinkListDto {
    return this.linking.list(principal);
  }

  @Post(':provider')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Start adding a login method: a fresh login with the provider in this browser links it',
    description:
      'Needs a recent login of this session (LINK_RECENT_AUTH_SECONDS); otherwise 403 reauthentication_required with reauthenticateUrl.',
  })
  @ApiParam({ name: 'provider', enum: IDENTITY_PROVIDERS })
  @ApiHeader({ name: CSRF_HEADER, required: true, description: 'csrfToken from GET /api/me' })
  @ApiCreatedResponse({ type: StartedLinkDto })
  @ApiSession(400, 403, 404, 409, 502, 503)
  @ApiLoginStartLimit()
  start(
    @CurrentPrincipal() principal: SessionPrincipal,
    @Param('provider', providerParam) provider: IdentityProvider,
    @Body() body: StartLinkDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StartedLinkDto> {
    const returnTo = safeReturnTo(body.returnTo, this.config.http.publicBaseUrl);
    return this.linking.start(principal, provider, body, this.binding.ensure(req, res), clientMeta(req), returnTo);
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Remove a login method (never the last); sessions authenticated through it end',
    description: 'Needs a recent login of this session, like adding one.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiHeader({ name: CSRF_HEADER, required: true, description: 'csrfToken from GET /api/me' })
  @ApiOkResponse({ type: RemovedLinkDto })
  @ApiSession(400, 403, 404, 409)
  async remove(
    @CurrentPrincipal() principal: SessionPrincipal,
    @Param('id', uuidParam) id: string,
    @RequestId() requestId: string | null,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RemovedLinkDto> {
    const change = await this.linking.remove(principal, id, requestId);
    const signedOut = change.revokedSessionIds.includes(principal.sessionId);
    const providerLogoutUrl = signedOut ? await this.signOut.applyWithProviderRound(req, res) : undefined;
    return {
      removedLinkId: change.linkId,
      revokedSessions: change.revokedSessionIds.length,
      signedOut,
      ...(providerLogoutUrl ? { providerLogoutUrl } : {}),
    };
  }
}
