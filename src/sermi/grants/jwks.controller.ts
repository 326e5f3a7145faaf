import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../access/auth.decorators.js';
import { AccessGrantSigner, type PublishedKey } from './access-grant-signer.js';

@ApiTags('sermi')
@Public()
@Controller('.well-known')
export class JwksController {
  constructor(private readonly signer: AccessGrantSigner) {}

  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({
    summary: 'Public keys that verify SERMI access grants (RFC 7517)',
    description:
      "This instance's signing key, keys announced for a rotation, and every key any instance signed with until the " +
      'grants it signed have expired.',
  })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: true } } },
    },
  })
  async jwks(): Promise<{ keys: PublishedKey[] }> {
    return { keys: await this.signer.publishedKeys() };
  }
}
