import { Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AppConfig } from '../../app/app.config.js';
import { LoginCompletionService } from '../../auth/login-completion.service.js';
import { type ClientMeta, LoginStarters, type ProviderLoginStarter } from '../../auth/login-starters.js';
import type { IdentityProvider } from '../../common/identity-providers.js';
import { InjectRootLogger } from '../../common/logging/logger.module.js';
import { InjectAppConfig } from '../../config/config.module.js';
import { LoginTransactionsService } from '../../login-transactions/login-transactions.service.js';
import { ProviderHttpClient } from '../../oidc/http-client.js';
import { isProviderFailure, type OidcStage, toLoginFailure } from '../../oidc/oidc-errors.js';
import { logFailure } from '../../common/logging/fault-log.js';
import { unexpectedLoginFailure } from '../../common/problem/login-failure.js';
import { TooManyLoginStarts } from '../../login-transactions/login-start-limits.js';
import { type CodeFlowSettings, OidcCodeFlow } from './oidc-code-flow.js';

/**
 * What every provider's login service needs from the rest of the app, injected once: the configuration, the login
 * transactions, the login completion (audit, metrics), the logger, and the registry of login starters.
 */
@Injectable()
export class ProviderLoginKit {
  constructor(
    @InjectAppConfig() readonly config: AppConfig,
    readonly transactions: LoginTransactionsService,
    readonly completion: LoginCompletionService,
    @InjectRootLogger() readonly logger: Logger,
    private readonly starters: LoginStarters,
  ) {}

  /**
   * A provider's settings once the sandbox or its real settings have filled in what it needs to run; enabled but
   * unresolved is a programming error (loadConfig and the sandbox start make sure it cannot happen).
   */
  resolved<S extends object, K extends keyof S>(
    name: string,
    settings: S | null,
    required: readonly K[],
    prefix: string,
  ): S & Required<Pick<S, K>> {
    const missing = required.filter(
      (key) => !settings?.[key] || (Array.isArray(settings[key]) && !settings[key].length),
    );
    if (!settings || missing.length > 0) {
      throw new Error(
        `${name} is enabled but not resolved: the sandbox or the ${prefix}_* settings must provide ${missing.join(', ')}`,
      );
    }
    return settings as S & Required<Pick<S, K>>;
  }

  /** Makes the provider's login offered to linking, re-authentication and the sign-in page. */
  register(starter: ProviderLoginStarter): void {
    this.starters.register(starter);
  }

  /** An OIDC provider's code flow (the starter is registered with it). */
  codeFlow(starter: ProviderLoginStarter, settings: CodeFlowSettings): OidcCodeFlow {
    this.register(starter);
    return new OidcCodeFlow(settings, this);
  }

  /** The provider's outbound HTTP client: timeouts and per-provider call metrics. */
  httpClient(provider: IdentityProvider): ProviderHttpClient {
    return new ProviderHttpClient(this.config.oidc.httpTimeoutMs, this.completion.metrics.providerCalls(provider));
  }

  /**
   * Audits a refused login (a security event) and returns what the caller should throw or report: the LoginFailure
   * for anything the provider or the user caused, the original error for a fault of our own (audited as
   * `internal_error`; the error filters turn it into a 500 or, for an unreachable database, a 503).
   */
  async refusal(
    provider: IdentityProvider,
    error: unknown,
    stage: OidcStage,
    meta: ClientMeta,
    details: Record<string, unknown>,
  ): Promise<unknown> {
    // A refused start is no login failure: audited one by one, the flood it stops would queue on the audit chain.
    if (error instanceof TooManyLoginStarts) return error;
    const ours = !isProviderFailure(error);
    const failure = ours ? unexpectedLoginFailure(error) : toLoginFailure(error, stage);
    await this.completion
      .recordFailure(provider, failure, meta, details)
      .catch((auditError: unknown) =>
        logFailure(this.logger, auditError, { requestId: meta.requestId }, 'could not audit a refused login'),
      );
    return ours ? error : failure;
  }
}
