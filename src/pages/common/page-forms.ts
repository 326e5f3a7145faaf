import { ApiHideProperty } from '@nestjs/swagger';
import { IsIn, IsUUID } from 'class-validator';
import { IDENTITY_PROVIDERS, type IdentityProvider } from '../../common/identity-providers.js';
import type { Response } from 'express';
import { redirect } from '../../common/http/redirect.js';

export class PendingIdentityFormDto {
  @ApiHideProperty()
  @IsUUID()
  pendingIdentityId: string;
}

export class ProviderFormDto {
  @ApiHideProperty()
  @IsIn(IDENTITY_PROVIDERS)
  provider: IdentityProvider;
}

export class PendingSignInFormDto extends PendingIdentityFormDto {
  @ApiHideProperty()
  @IsIn(IDENTITY_PROVIDERS)
  provider: IdentityProvider;
}

/** After a form post: the browser loads the next page with GET (post/redirect/get). */
export function seeOther(res: Response, location: string): void {
  res.setHeader('Cache-Control', 'no-store');
  redirect(res, 303, location);
}
