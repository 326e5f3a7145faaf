import { subjectFits } from '../identity-links/identity-subject.js';
import type { SermiClaims, SermiIdentity } from './sermi-identity.js';
import { hasControlCharacters } from '../common/control-characters.js';

export type SermiRefusal =
  'sermi_claims_missing' | 'sermi_uid_malformed' | 'sermi_rsse_set_incomplete' | 'sermi_rsse_without_ioe';

export type SermiEvaluation =
  | { ok: true; identity: SermiIdentity; warnings: string[] }
  | { ok: false; refusal: SermiRefusal; detail: string; field?: string };

const BASE_CLAIMS = ['sub', 'cabuid', 'iouid', 'ioeuid'] as const;
const CHAIN_CLAIMS = ['rssuid', 'rsseuid'] as const;

/** CABUID: first 3 chars of the CAB name / ISO country / 4 digits / 12 alphanumerics (docs/sermi.md#uid-formats). */
const CABUID = /^[^/\s]{3}\/[A-Z]{2}\/[0-9]{4}\/[^/\s]{12}$/u;

/** No UID is longer (docs/sermi.md#uid-formats): they are indexed keys (the person key, the access log, bindings). */
const MAX_UID_LENGTH = 255;

/**
 * Invisible format characters (\p{Cf}: bidirectional overrides, zero-width spaces, a byte-order mark): no identifier
 * needs one, and in a UID shown to the support desk they make one UID look like another (U+202E turns the text).
 */
const FORMAT_CHARACTER = /\p{Cf}/u;

/** Neither control nor invisible format characters, nor lone surrogates. */
const isPlainIdentifier = (value: string) => !hasControlCharacters(value) && !FORMAT_CHARACTER.test(value);

/**
 * Lenient on purpose: the right number of `/`-separated segments, none empty, none with surrounding whitespace,
 * no control or invisible format characters or lone surrogates, at most MAX_UID_LENGTH characters. Names may carry
 * non-ASCII letters; IOUIDs need not end in a VAT number.
 */
function hasSegments(value: string, count: number): boolean {
  if (value.length > MAX_UID_LENGTH || !isPlainIdentifier(value)) return false;
  const segments = value.split('/');
  return segments.length === count && segments.every((segment) => segment.length > 0 && segment.trim() === segment);
}

const WELL_FORMED: Record<(typeof BASE_CLAIMS)[number] | (typeof CHAIN_CLAIMS)[number], (value: string) => boolean> = {
  sub: (value) => subjectFits(value) && value.trim() === value && isPlainIdentifier(value),
  cabuid: (value) => CABUID.test(value) && isPlainIdentifier(value),
  iouid: (value) => hasSegments(value, 3),
  ioeuid: (value) => hasSegments(value, 3),
  rssuid: (value) => hasSegments(value, 3),
  rsseuid: (value) => hasSegments(value, 3),
};

const present = (claims: Record<string, unknown>, name: string) =>
  claims[name] !== undefined && claims[name] !== null && claims[name] !== '';

/**
 * Applies the SERMI claim-set rules to the user-info of a Trust Centre login (docs/sermi.md#the-rules, rules 2–4
 * and 6). Pure:
 * no I/O, the same answer for the same claims. Refusals name the rule; the CAB consistency check only warns.
 */
export function evaluateSermiClaims(claims: Record<string, unknown>): SermiEvaluation {
  const chainPresent = CHAIN_CLAIMS.filter((name) => present(claims, name));
  const baseMissing = BASE_CLAIMS.filter((name) => !present(claims, name));
  if (chainPresent.length > 0 && baseMissing.length > 0) {
    return {
      ok: false,
      refusal: 'sermi_rsse_without_ioe',
      detail: `chain authorisation without ${baseMissing.join(', ')}`,
      field: baseMissing[0],
    };
  }
  if (baseMissing.length > 0) {
    return {
      ok: false,
      refusal: 'sermi_claims_missing',
      detail: `missing ${baseMissing.join(', ')}`,
      field: baseMissing[0],
    };
  }
  if (chainPresent.length === 1) {
    const missing = CHAIN_CLAIMS.find((name) => !chainPresent.includes(name))!;
    return {
      ok: false,
      refusal: 'sermi_rsse_set_incomplete',
      detail: `${chainPresent[0]} without ${missing}`,
      field: missing,
    };
  }
  for (const name of [...BASE_CLAIMS, ...chainPresent]) {
    const value = claims[name];
    if (typeof value !== 'string' || hasControlCharacters(value) || !WELL_FORMED[name](value)) {
      return {
        ok: false,
        refusal: 'sermi_uid_malformed',
        detail: `${name} is not a well-formed SERMI identifier`,
        field: name,
      };
    }
  }

  const sermi = {
    sub: claims.sub as string,
    cabuid: claims.cabuid as string,
    iouid: claims.iouid as string,
    ioeuid: claims.ioeuid as string,
    ...(chainPresent.length === 2 ? { rssuid: claims.rssuid as string, rsseuid: claims.rsseuid as string } : {}),
  } satisfies SermiClaims;
  const chain = sermi.rsseuid !== undefined;
  // Decided by the claim names, never by the values (the trailing B/D letters are undocumented).
  const actorUid = chain ? sermi.rsseuid! : sermi.ioeuid;
  const identity: SermiIdentity = {
    actorType: chain ? 'RSSE' : 'IOE',
    actor: { sub: sermi.sub, uid: actorUid, organisationUid: chain ? sermi.rssuid! : sermi.iouid },
    principal: { ioeuid: sermi.ioeuid, iouid: sermi.iouid },
    cabuid: sermi.cabuid,
    authorisationUid: actorUid.split('/')[2],
    claims: sermi,
  };
  return { ok: true, identity, warnings: cabConsistencyWarnings(sermi) };
}

/**
 * Soft check (rule 6): the CABUID's country and 3-letter prefix should match the IOEUID's CAB part. IOE and IO may
 * legitimately have different CABs, so a mismatch is only reported.
 */
export function cabConsistencyWarnings(claims: SermiClaims): string[] {
  const [prefix, country] = claims.cabuid.split('/');
  const [ioeCountry, ioeCabName] = claims.ioeuid.split('/');
  const warnings: string[] = [];
  if (country !== ioeCountry) warnings.push(`cab_country_mismatch: CABUID ${country} vs IOEUID ${ioeCountry}`);
  if (!ioeCabName.toUpperCase().startsWith(prefix.toUpperCase())) {
    warnings.push(`cab_name_mismatch: CABUID prefix ${prefix} vs IOEUID CAB ${ioeCabName}`);
  }
  return warnings;
}
