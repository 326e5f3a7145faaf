/** The SERMI identifiers of a login, as received (raw strings, unchanged). See docs/sermi.md#uid-formats. */
export interface SermiClaims {
  sub: string;
  cabuid: string;
  iouid: string;
  ioeuid: string;
  rssuid?: string;
  rsseuid?: string;
}

export type SermiActorType = 'IOE' | 'RSSE';

/**
 * Who acts and on whose behalf. In an IOE login the IOE is both; in a chain login the RSSE acts (actor) under the
 * chain authorisation of an IOE (principal). A chain session is never the IOE's own session.
 */
export interface SermiIdentity {
  actorType: SermiActorType;
  actor: { sub: string; uid: string; organisationUid: string };
  principal: { ioeuid: string; iouid: string };
  cabuid: string;
  /** Last segment of the actor's IOEUID/RSSEUID: stays the same for the person even when their CAB changes. */
  authorisationUid: string;
  claims: SermiClaims;
}
