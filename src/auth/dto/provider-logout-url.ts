import { ApiPropertyOptional } from '@nestjs/swagger';

/** The `providerLogoutUrl` of an answer whose action signed the browser out (BrowserSignOut.applyWithProviderRound). */
export const ApiProviderLogoutUrl = () =>
  ApiPropertyOptional({
    format: 'uri',
    description: "With signedOut: send the browser here next, to its providers' sign-out pages (as POST /auth/logout)",
  });
