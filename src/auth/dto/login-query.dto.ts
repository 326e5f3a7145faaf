import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

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
}
