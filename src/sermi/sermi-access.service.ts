import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppException } from '../common/problem/app-exception.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { reauthenticateUrl } from '../sessions/recent-authentication.js';
import { safeReturnTo } from '../login-transactions/return-to.js';
import type { SessionFacts } from '../access/authenticated-request.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { AccessLogWriter } from './access-log/access-log-writer.js';
import {
  type AccessDecision,
  type AccessReason,
  decideSecurityAccess,
  type SermiSession,
  sermiLogIdentifiers,
  sermiSessionOf,
} from './access-rules.js';
import { AccessGrantSigner } from './grants/access-grant-signer.js';
import { Metrics } from '../operations/metrics.js';
import { SermiChainBindingsRepository } from './sermi-chain-bindings.repository.js';

export interface AccessRequest {
  /** The deciding session: its liveness is checked by the statements that bind and log the decision. */
  session: SessionFacts;
  vin: string;
  itemCode: string;
  clientIp: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** Where a fresh login should return to (a relative path; anything else becomes `/`). */
  returnTo?: string;
}

export interface AccessResult {
  accessId: string;
  decision: AccessDecision;
  reason: AccessReason;
  decidedAt: Date;
  vin: string;
  item: { code: string; title: string; securityRelated: boolean };
  sermiRequired: boolean;
  actor: { type: 'IOE' | 'RSSE'; sub: string; uid: string; organisationUid: string } | null;
  principal: { ioeuid: string; iouid: string } | null;
  grant: { token: string; expiresAt: Date } | null;
  /** Where to start the fresh Trust Centre login that would help, for denials. */
  reauthenticateUrl: string | null;
}

/**
 * Decides whether a session may see an RMI item for a vehicle, records the decision in the SERMI access log (one
 * statement, whatever the outcome) and, for granted security-related items, signs an access grant.
 */
@Injectable()
export class SermiAccessService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectAppConfig() private readonly config: AppConfig,
    private readonly signer: AccessGrantSigner,
    private readonly metrics: Metrics,
    /**
     * Decisions made at the same time are logged by one statement (one round trip, one commit), each still answered
     * only after its record is committed; under load a statement lingers briefly for more decisions.
     */
    private readonly accessLog: AccessLogWriter,
    private readonly chainBindings: SermiChainBindingsRepository,
    private readonly sessions: SessionsService,
  ) {}

  async decide(request: AccessRequest): Promise<AccessResult> {
    const startedAt = performance.now();
    const { session: deciding, vin, itemCode } = request;
    const now = new Date();
    const session = sermiSessionOf(deciding);
    const security = decideSecurityAccess(session, now, this.config.sermi);
    const chainBound = security.bindVehicle === true;
    // A chain authorisation held to one vehicle: bind it (the first writer wins, whichever of its sessions) and let
    // the decision statement grant only the bound VIN. No binding row: the item is unknown or was not
    // security-related; the statement reads the classification again and, should the item be security-related by
    // then, denies (nothing was bound). bindVehicle implies a granted chain session, so auth_time is known.
    const boundVin = chainBound
      ? await this.chainBindings.bind(this.dataSource.manager, {
          rsseuid: session!.actor.uid,
          ioeuid: session!.principal.ioeuid,
          authenticatedAt: session!.signIn!,
          vin,
          itemCode,
          sessionId: deciding.sessionId,
          accountId: deciding.accountId,
        })
      : null;
    const uids = session ? sermiLogIdentifiers(session) : null;
    const row = await this.accessLog.record({
      id: randomUUID(),
      itemCode,
      loginMethod: session?.method ?? null,
      accountId: deciding.accountId,
      sessionId: deciding.sessionId,
      actorType: uids?.actorType ?? null,
      sub: uids?.sub ?? null,
      cabuid: uids?.cabuid ?? null,
      iouid: uids?.iouid ?? null,
      ioeuid: uids?.ioeuid ?? null,
      rssuid: uids?.rssuid ?? null,
      rsseuid: uids?.rsseuid ?? null,
      vin,
      securityDecision: security.decision,
      securityReason: security.reason,
      clientIp: request.clientIp,
      userAgent: request.userAgent,
      requestId: request.requestId,
      chainBound,
      boundVin,
    });
    if (!row) {
      // Nothing logged: the item is unknown, or the session ended since this instance last looked it up.
      if (!(await this.sessions.lookUpFacts(deciding.token))) {
        throw new AppException('unauthenticated', 'Sign in to continue');
      }
      throw new AppException('rmi_item_not_found', `No RMI item has the code ${itemCode}`);
    }
    const decidedAt = new Date(row.recorded_at);
    const granted = row.decision === 'granted';
    const grant = granted && row.security_related && session ? await this.grant(row.id, request, session, now) : null;
    this.metrics.decision(row.decision, row.reason, (performance.now() - startedAt) / 1000);
    return {
      accessId: row.id,
      decision: row.decision,
      reason: row.reason,
      decidedAt,
      vin,
      item: { code: itemCode, title: row.title, securityRelated: row.security_related },
      sermiRequired: row.security_related,
      actor: session ? { type: session.actorType, ...session.actor } : null,
      principal: session ? session.principal : null,
      grant,
      reauthenticateUrl: granted ? null : this.reauthenticateUrl(request.returnTo, session !== null),
    };
  }

  private grant(accessId: string, request: AccessRequest, session: SermiSession, now: Date) {
    // A grant does not outlive what it was granted on: the SERMI login's maximum age, or the session itself.
    const maxAgeSeconds =
      session.actorType === 'RSSE' ? this.config.sermi.rsseMaxAgeSeconds : this.config.sermi.ioeMaxAgeSeconds;
    const authenticatedAt = session.authenticatedAt!;
    const loginEnds = new Date(authenticatedAt.getTime() + maxAgeSeconds * 1000);
    const sessionEnds = request.session.absoluteExpiresAt;
    return this.signer.sign(
      {
        jti: accessId,
        sub: request.session.accountId,
        vin: request.vin,
        item: request.itemCode,
        auth_time: Math.floor(authenticatedAt.getTime() / 1000),
        sermi: {
          actorType: session.actorType,
          actor: session.actor,
          principal: session.principal,
          cabuid: session.cabuid,
        },
      },
      now,
      loginEnds < sessionEnds ? loginEnds : sessionEnds,
    );
  }

  /**
   * A fresh Trust Centre login helps with every denial; there is none to offer when Digidentity is off. A session
   * that already came through Digidentity re-authenticates (the provider must sign the person in again, never
   * reuse its own session); any other session signs in with Digidentity.
   */
  private reauthenticateUrl(returnTo: string | undefined, sermiSession: boolean): string | null {
    if (!this.config.digidentity) return null;
    const base = this.config.http.publicBaseUrl;
    if (sermiSession) return reauthenticateUrl(base, returnTo, 'digidentity');
    const url = new URL('/auth/digidentity/login', base);
    url.searchParams.set('returnTo', safeReturnTo(returnTo, base));
    return url.toString();
  }
}
