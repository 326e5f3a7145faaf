import { Global, Module, type Type } from '@nestjs/common';
import { SANDBOX_INFO, type SandboxInfo } from '../src/pages/common/sandbox-info.js';

/**
 * What the sign-in page shows while sandbox providers run: the sandbox banner, and on `/sandbox` the personas and
 * links to each sandbox's home page. The page itself is the portal's own sign-in page (src/pages/sign-in).
 */
export function sandboxPortalModule(info: SandboxInfo): Type {
  @Global()
  @Module({ providers: [{ provide: SANDBOX_INFO, useValue: info }], exports: [SANDBOX_INFO] })
  class SandboxPortalModule {}
  return SandboxPortalModule;
}
