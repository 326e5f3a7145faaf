import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module.js';
import { AccessLogModule } from './access-log/access-log.module.js';
import { AccessGrantSigner } from './grants/access-grant-signer.js';
import { JwksController } from './grants/jwks.controller.js';
import { SermiGrantKeysRepository } from './grants/sermi-grant-keys.repository.js';
import { RequiresSermiGuard } from './requires-sermi.guard.js';
import { SermiAccessController } from './sermi-access.controller.js';
import { SermiAccessService } from './sermi-access.service.js';
import { SermiChainBindingsRepository } from './sermi-chain-bindings.repository.js';

/** SERMI: security-related RMI access decisions, access grants and the tamper-evident access log. */
@Module({
  imports: [AccessLogModule, SessionsModule],
  controllers: [SermiAccessController, JwksController],
  providers: [
    SermiAccessService,
    SermiChainBindingsRepository,
    AccessGrantSigner,
    SermiGrantKeysRepository,
    RequiresSermiGuard,
  ],
  exports: [SermiAccessService, SermiChainBindingsRepository, SermiGrantKeysRepository, RequiresSermiGuard],
})
export class SermiModule {}
