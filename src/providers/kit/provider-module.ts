import type { ModuleMetadata, Provider, Type } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuthModule } from '../../auth/auth.module.js';
import { LoginTransactionsModule } from '../../login-transactions/login-transactions.module.js';
import { SessionsModule } from '../../sessions/sessions.module.js';
import { ProviderLoginKit } from './provider-login-kit.js';

/** A provider module's metadata: what every provider module imports, and the kit, around its own classes. */
export function providerModule(own: { controllers: Type[]; providers: Provider[] }): ModuleMetadata {
  return {
    imports: [PassportModule.register({ session: false }), AuthModule, LoginTransactionsModule, SessionsModule],
    controllers: own.controllers,
    providers: [ProviderLoginKit, ...own.providers],
  };
}
