import type { SermiActorType } from './sermi-identity.js';

/** ISO 3779 VIN: 17 characters, digits and capital letters without I, O and Q. The check digit is not required. */
export const VIN_PATTERN = /^[A-HJ-NPR-Z0-9]{17}$/;

export type AccessDecision = 'granted' | 'denied';

export type AccessReason =
  | 'not_security_related'
  | 'sermi_session_valid'
  | 'sermi_login_required'
  | 'reauthentication_required'
  | 'chain_vehicle_mismatch';

export const DENIAL_REASONS = ['sermi_login_required', 'reauthentication_required', 'chain_vehicle_mismatch'] as const;

/** What a session proves about SERMI: the Trust Centre login behind it, its actor and principal, and its age. */
export interface SermiSession {
  method: 'web' | 'passwordless';
  actorType: SermiActorType;
  actor: { sub: string; uid: string; organisationUid: string };
  principal: { ioeuid: string; iouid: string };
  cabuid: string;
  /** The Trust Centre's `auth_time`; null when it did not say, and then the session is never fresh enough. */
  authenticatedAt: Date | null;
  /**
   * The Trust Centre sign-in the session came from, by its `auth_time` as stamped (not held to this host's clock
   * like authenticatedAt): what a chain authorisation's vehicle binding is keyed by, the same for every session of
   * that sign-in. Sessions from before 2026-12-06 carry none: their authenticatedAt stands in.
   */
  signIn: Date | null;
}

export interface AccessPolicy {
  ioeMaxAgeSeconds: number;
  rsseMaxAgeSeconds: number;
  chainVehicleBinding: 'first_vehicle' | 'none';
}

export interface SecurityAccess {
  decision: AccessDecision;
  reason: AccessReason;
  /**
   * Granted on condition that the chain session is (or becomes) bound to this vehicle: the decision statement
   * (ACCESS_DECISIONS_SQL) denies any other with chain_vehicle_mismatch.
   */
  bindVehicle?: true;
}

/**
 * The SERMI facts of a session, or null when it was not authenticated through the SERMI Trust Centre. Reads only
 * what the login stored server-side (`auth_context`), never anything the browser sends.
 */
export function sermiSessionOf(session: {
  provider: string;
  authContext: Record<string, unknown>;
  authenticatedAt: Date | null;
}): SermiSession | null {
  if (session.provider !== 'digidentity') return null;
  const { method, sermi } = session.authContext as { method?: unknown; sermi?: Record<string, unknown> };
  if ((method !== 'web' && method !== 'passwordless') || typeof sermi !== 'object' || sermi === null) return null;
  const actor = sermi.actor as SermiSession['actor'] | undefined;
  const principal = sermi.principal as SermiSession['principal'] | undefined;
  const wellFormed =
    (sermi.actorType === 'IOE' || sermi.actorType === 'RSSE') &&
    typeof sermi.cabuid === 'string' &&
    [actor?.sub, actor?.uid, actor?.organisationUid, principal?.ioeuid, principal?.iouid].every(
      (value) => typeof value === 'string' && value.length > 0,
    );
  if (!wellFormed) return null;
  return {
    method,
    actorType: sermi.actorType as SermiActorType,
    actor: { sub: actor!.sub, uid: actor!.uid, organisationUid: actor!.organisationUid },
    principal: { ioeuid: principal!.ioeuid, iouid: principal!.iouid },
    cabuid: sermi.cabuid as string,
    authenticatedAt: session.authenticatedAt,
    signIn: dateOf(sermi.signIn) ?? session.authenticatedAt,
  };
}

/** An ISO time kept in the auth context, or null. */
function dateOf(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * May this session see security-related RMI now? (SERMI rules 5 and 7.) Only a Trust Centre authentication younger
 * than the maximum age for its actor type qualifies — by the Trust Centre's own `auth_time`, so a login it answered
 * from its single sign-on session is as old as the sign-in behind it, and one without `auth_time` never qualifies.
 * A chain authorisation is also held to one vehicle (bindVehicle).
 */
export function decideSecurityAccess(session: SermiSession | null, now: Date, policy: AccessPolicy): SecurityAccess {
  if (!session) return { decision: 'denied', reason: 'sermi_login_required' };
  const chain = session.actorType === 'RSSE';
  const maxAgeMs = (chain ? policy.rsseMaxAgeSeconds : policy.ioeMaxAgeSeconds) * 1000;
  if (!session.authenticatedAt || now.getTime() - session.authenticatedAt.getTime() >= maxAgeMs) {
    return { decision: 'denied', reason: 'reauthentication_required' };
  }
  if (chain && policy.chainVehicleBinding === 'first_vehicle') {
    return { decision: 'granted', reason: 'sermi_session_valid', bindVehicle: true };
  }
  return { decision: 'granted', reason: 'sermi_session_valid' };
}

/** The SERMI identifiers a log record carries for a session or login: the actor's and the principal's. */
export function sermiLogIdentifiers(session: Pick<SermiSession, 'actorType' | 'actor' | 'principal' | 'cabuid'>) {
  const chain = session.actorType === 'RSSE';
  return {
    actorType: session.actorType,
    sub: session.actor.sub,
    cabuid: session.cabuid,
    iouid: session.principal.iouid,
    ioeuid: session.principal.ioeuid,
    rssuid: chain ? session.actor.organisationUid : null,
    rsseuid: chain ? session.actor.uid : null,
  };
}

/** What the access log records of a SERMI login. */
export type SermiLoginRecord = ReturnType<typeof sermiLogIdentifiers> & { method: 'web' | 'passwordless' };
