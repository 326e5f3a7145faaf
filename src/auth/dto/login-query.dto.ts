import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

/** The query of every provider's login link. */
export class LoginQueryDto {
  @ApiPropertyOptional({
    description: 'Same-site path to return to after the login; anything else falls back to /',
    example: '/jobs/42',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  returnTo?: string;

  @ApiPropertyOptional({
    enum: ['login', 'select_account'],
    description:
      'Passed on to an OIDC provider: `login` asks for a new sign-in, `select_account` for the provider\'s account choice, instead of its single sign-on session answering ("sign in as someone else"). eHerkenning has neither.',
  })
  @IsOptional()
  @IsIn(['login', 'select_account'])
  prompt?: 'login' | 'select_account';
}
