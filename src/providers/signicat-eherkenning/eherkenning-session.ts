import type { ErrorCode } from '../../common/problem/error-codes.js';
import { hasControlCharacters } from '../../common/control-characters.js';

/**
 * What the portal asks eHerkenning for and keeps (docs/providers.md#eherkenning-attributes): the organisation (KvK
 * number, branch, name) and the pseudonym of the person acting for it. Nothing about the person beyond that.
 */
export const EHERKENNING_ATTRIBUTES = [
  'eherkenningPseudo',
  'chamberOfCommerce',
  'eherkenningVestigingsNr',
  'organisationName',
] as const;

/** The callback Signicat sent the browser to; it never decides the outcome, the session's status does. */
export const CALLBACK_OUTCOMES = ['success', 'abort', 'error'] as const;
export type CallbackOutcome = (typeof CALLBACK_OUTCOMES)[number];

export interface EherkenningIdentity {
  subject: string;
  attributes: {
    chamberOfCommerce: string;
    eherkenningVestigingsNr?: string;
    eherkenningPseudo?: string;
    organisationName?: string;
  };
}

export type SessionVerdict =
  { ok: true; identity: EherkenningIdentity } | { ok: false; code: ErrorCode; detail: string; field?: string };

const KVK_NUMBER = /^\d{8}$/;
const VESTIGINGSNUMMER = /^\d{12}$/;
const MAX_SUBJECT_LENGTH = 512;
const MAX_TEXT_LENGTH = 512;

/** Printable text without control characters or lone surrogates (Postgres jsonb refuses NUL and those). */
const plainText = (value: unknown, max = MAX_TEXT_LENGTH): value is string =>
  typeof value === 'string' && value.trim().length > 0 && value.length <= max && !hasControlCharacters(value);

const refuse = (code: ErrorCode, detail: string, field?: string): SessionVerdict => ({
  ok: false,
  code,
  detail,
  ...(field ? { field } : {}),
});

/**
 * Reads a Signicat session answer (`GET /auth/rest/sessions/{id}`). Only `SUCCESS` is a login; the other outcomes
 * map to stable codes. `sessionId` and `externalReference` bind the answer to the login this browser started.
 */
export function readEherkenningSession(
  session: Record<string, unknown>,
  expected: { sessionId: string; externalReference: string },
): SessionVerdict {
  if (session.id !== expected.sessionId) {
    return refuse('authorization_response_invalid', 'Signicat answered for another session', 'id');
  }
  if (session.externalReference !== expected.externalReference) {
    return refuse('authorization_response_invalid', 'the session belongs to another login', 'externalReference');
  }
  switch (session.status) {
    case 'SUCCESS':
      break;
    case 'ABORT':
    case 'ABORTED':
      return refuse('login_cancelled', 'the person cancelled the eHerkenning login');
    case 'ERROR':
      return refuse('provider_error', 'Signicat reported an error for the eHerkenning login');
    case 'EXPIRED':
      return refuse('login_expired', 'the Signicat session expired');
    default:
      // CREATED (not finished yet) or a status this code does not know: never a login.
      return refuse('authorization_response_invalid', 'the Signicat session is not finished', 'status');
  }
  if (session.provider !== 'eherkenning') {
    return refuse('userinfo_invalid', 'the login was not made with eHerkenning', 'provider');
  }
  const subject = (session.subject ?? {}) as Record<string, unknown>;
  if (typeof subject !== 'object' || !plainText(subject.id, MAX_SUBJECT_LENGTH)) {
    return refuse('userinfo_invalid', 'the session has no usable subject id', 'subject.id');
  }
  if (typeof subject.chamberOfCommerce !== 'string' || !KVK_NUMBER.test(subject.chamberOfCommerce)) {
    return refuse('userinfo_invalid', 'the KvK number is not 8 digits', 'chamberOfCommerce');
  }
  const attributes: EherkenningIdentity['attributes'] = { chamberOfCommerce: subject.chamberOfCommerce };
  if (subject.eherkenningVestigingsNr !== undefined && subject.eherkenningVestigingsNr !== null) {
    const branch = subject.eherkenningVestigingsNr;
    if (typeof branch !== 'string' || !VESTIGINGSNUMMER.test(branch)) {
      return refuse('userinfo_invalid', 'the vestigingsnummer is not 12 digits', 'eherkenningVestigingsNr');
    }
    attributes.eherkenningVestigingsNr = branch;
  }
  for (const field of ['eherkenningPseudo', 'organisationName'] as const) {
    const value = subject[field];
    if (value === undefined || value === null) continue;
    if (!plainText(value)) return refuse('userinfo_invalid', `${field} is not plain text`, field);
    attributes[field] = value.trim();
  }
  return { ok: true, identity: { subject: subject.id, attributes } };
}
