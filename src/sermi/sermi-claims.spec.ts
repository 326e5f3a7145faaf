import { describe, expect, it } from '@jest/globals';
import { evaluateSermiClaims } from './sermi-claims.js';

// Digidentity's published example values (docs/sermi.md#example-values): its integration guide's IOE and RSSE sets,
// and the values of its pre-production environment.
const IOE = {
  sub: 'e2x0a6mp-37l0-42ps-94ef-u69755438d3o',
  cabuid: 'EXA/NL/1234/1EXA2MP34LE5',
  iouid: 'EXAMPLEIO/WALDORPSTRAAT13FTHEHAGUE2521CA/NL123456789B01',
  ioeuid: 'NL/EXAMPLECAB/1234567890B',
};
const RSSE = {
  sub: 'e6x3a4mp-49l2-66ps-94ef-u39455005d8o',
  cabuid: 'EXA/NL/1234/1EXA2MP34LE5',
  iouid: 'EXAMPLEIO/WALDORPSTRAAT13FTHEHAGUE2521CA/NL123456789B01',
  ioeuid: 'NL/EXAMPLECAB/1234567890B',
  rssuid: 'EXAMPLERSS/WALDORPSTRAAT13FTHEHAGUE2521CA/NL987654321B02',
  rsseuid: 'NL/EXAMPLECAB/9876543210D',
};
const PREPRODUCTION_RSSE = {
  ...IOE,
  rssuid: 'EXAMPLERSS/WALDORPSTRAAT13FTHEHAGUE2521CA/NL123456789B02',
  rsseuid: 'NL/EXAMPLECAB/1234567890D',
};
const PA_IOUID = 'EXAMPLEIO/WALDORPSTRAAT13FTHEHAGUE2521CA/PA123BC456D78EF9';

describe('evaluateSermiClaims', () => {
  it('accepts the example IOE set: the IOE is actor and principal', () => {
    const result = evaluateSermiClaims(IOE);
    expect(result).toEqual({
      ok: true,
      warnings: [],
      identity: {
        actorType: 'IOE',
        actor: { sub: IOE.sub, uid: IOE.ioeuid, organisationUid: IOE.iouid },
        principal: { ioeuid: IOE.ioeuid, iouid: IOE.iouid },
        cabuid: IOE.cabuid,
        authorisationUid: '1234567890B',
        claims: IOE,
      },
    });
  });

  it.each([
    ['integration guide', RSSE, '9876543210D'],
    ['pre-production', PREPRODUCTION_RSSE, '1234567890D'],
  ])('accepts the %s RSSE chain set: the RSSE acts for the IOE principal', (_, claims, authorisationUid) => {
    const result = evaluateSermiClaims(claims);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.identity).toMatchObject({
      actorType: 'RSSE',
      actor: { sub: claims.sub, uid: claims.rsseuid, organisationUid: claims.rssuid },
      principal: { ioeuid: claims.ioeuid, iouid: claims.iouid },
      authorisationUid,
    });
  });

  it('accepts an IOUID that ends in a non-VAT regional id (pa_iouid)', () => {
    expect(evaluateSermiClaims({ ...IOE, iouid: PA_IOUID })).toMatchObject({
      ok: true,
      identity: { principal: { iouid: PA_IOUID } },
    });
  });

  it('accepts names with non-ASCII letters and keeps every value unchanged', () => {
    const claims = {
      ...IOE,
      iouid: 'GARAGEMÜLLER/KÖNIGSALLEE1DÜSSELDORF40212/DE123456789',
      ioeuid: 'DE/PRÜFSTELLE NORD/ÄÖ12345',
    };
    const result = evaluateSermiClaims(claims);
    expect(result).toMatchObject({ ok: true, identity: { claims, authorisationUid: 'ÄÖ12345' } });
  });

  it('ignores other claims and decides IOE vs RSSE from the claim names, not the trailing letters', () => {
    expect(evaluateSermiClaims({ ...IOE, ioeuid: 'NL/EXAMPLECAB/1234567890D', email: 'x@example.com' })).toMatchObject({
      ok: true,
      identity: { actorType: 'IOE' },
    });
  });

  it.each([
    ['rssuid without rsseuid', { ...IOE, rssuid: RSSE.rssuid }, 'sermi_rsse_set_incomplete', 'rsseuid'],
    ['rsseuid without rssuid', { ...IOE, rsseuid: RSSE.rsseuid }, 'sermi_rsse_set_incomplete', 'rssuid'],
    [
      'an RSSE set without the IOE set',
      { sub: RSSE.sub, rssuid: RSSE.rssuid, rsseuid: RSSE.rsseuid },
      'sermi_rsse_without_ioe',
      'cabuid',
    ],
    ['an RSSE set without ioeuid', { ...RSSE, ioeuid: undefined }, 'sermi_rsse_without_ioe', 'ioeuid'],
    ['a missing ioeuid', { ...IOE, ioeuid: undefined }, 'sermi_claims_missing', 'ioeuid'],
    ['a missing cabuid', { ...IOE, cabuid: undefined }, 'sermi_claims_missing', 'cabuid'],
    ['an empty iouid', { ...IOE, iouid: '' }, 'sermi_claims_missing', 'iouid'],
    ['a missing sub', { ...IOE, sub: undefined }, 'sermi_claims_missing', 'sub'],
    ['no SERMI claims at all', { sub: IOE.sub }, 'sermi_claims_missing', 'cabuid'],
    ['an IOEUID with two segments', { ...IOE, ioeuid: 'NL/1234567890B' }, 'sermi_uid_malformed', 'ioeuid'],
    ['an IOEUID with an empty segment', { ...IOE, ioeuid: 'NL//1234567890B' }, 'sermi_uid_malformed', 'ioeuid'],
    ['an IOUID with surrounding whitespace', { ...IOE, iouid: ` ${IOE.iouid}` }, 'sermi_uid_malformed', 'iouid'],
    [
      'a segment with surrounding whitespace',
      { ...IOE, iouid: 'EXAMPLEIO/ WALDORPSTRAAT13/NL123456789B01' },
      'sermi_uid_malformed',
      'iouid',
    ],
    ['a control character', { ...IOE, ioeuid: 'NL/EXAMPLECAB/12345\n67890B' }, 'sermi_uid_malformed', 'ioeuid'],
    [
      'a CABUID with a lower-case country',
      { ...IOE, cabuid: 'EXA/nl/1234/1EXA2MP34LE5' },
      'sermi_uid_malformed',
      'cabuid',
    ],
    [
      'a CABUID with 11 trailing characters',
      { ...IOE, cabuid: 'EXA/NL/1234/1EXA2MP34LE' },
      'sermi_uid_malformed',
      'cabuid',
    ],
    [
      'a CABUID with letters in the number',
      { ...IOE, cabuid: 'EXA/NL/12A4/1EXA2MP34LE5' },
      'sermi_uid_malformed',
      'cabuid',
    ],
    ['a numeric ioeuid', { ...IOE, ioeuid: 42 }, 'sermi_uid_malformed', 'ioeuid'],
    ['a malformed RSSEUID', { ...RSSE, rsseuid: 'NL/EXAMPLECAB' }, 'sermi_uid_malformed', 'rsseuid'],
    ['a sub with whitespace', { ...IOE, sub: ' abc' }, 'sermi_uid_malformed', 'sub'],
    ['a sub longer than a link holds', { ...IOE, sub: 'a'.repeat(256) }, 'sermi_uid_malformed', 'sub'],
    ['a sub with a lone surrogate', { ...IOE, sub: 'abc\ud800' }, 'sermi_uid_malformed', 'sub'],
    [
      'an IOEUID of 256 characters',
      { ...IOE, ioeuid: `NL/EXAMPLECAB/${'7'.repeat(242)}` },
      'sermi_uid_malformed',
      'ioeuid',
    ],
    ['an IOUID with a lone surrogate', { ...IOE, iouid: 'IO/STREET\udc00/NL1' }, 'sermi_uid_malformed', 'iouid'],
    [
      'an IOEUID turned round by a right-to-left override',
      { ...IOE, ioeuid: 'NL/EXAMPLECAB/\u202e B0987654321' },
      'sermi_uid_malformed',
      'ioeuid',
    ],
    ['an IOUID with a zero-width space', { ...IOE, iouid: 'IO/STREET\u200b/NL1' }, 'sermi_uid_malformed', 'iouid'],
    ['a sub with a byte-order mark', { ...IOE, sub: '\ufeffabc' }, 'sermi_uid_malformed', 'sub'],
    [
      'a CABUID with an invisible character',
      { ...IOE, cabuid: 'EX\u2066/NL/1234/1EXA2MP34LE5' },
      'sermi_uid_malformed',
      'cabuid',
    ],
    [
      'a NUL character in the CABUID',
      { ...IOE, cabuid: 'E\u0000A/NL/1234/1EXA2MP34LE5' },
      'sermi_uid_malformed',
      'cabuid',
    ],
  ])('refuses %s', (_, claims, refusal, field) => {
    expect(evaluateSermiClaims(claims)).toMatchObject({ ok: false, refusal, field });
  });

  it('accepts a sub of 255 characters counted as Postgres counts them, and an IOEUID of 255', () => {
    expect(evaluateSermiClaims({ ...IOE, sub: '🔑'.repeat(255) }).ok).toBe(true);
    expect(evaluateSermiClaims({ ...IOE, ioeuid: `NL/EXAMPLECAB/${'7'.repeat(241)}` }).ok).toBe(true);
  });

  it('only warns when the CABUID and the IOEUID name different CABs', () => {
    const result = evaluateSermiClaims({ ...IOE, cabuid: 'TUV/DE/4321/ABCDEFGHIJKL' });
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && result.warnings).toEqual([
      'cab_country_mismatch: CABUID DE vs IOEUID NL',
      'cab_name_mismatch: CABUID prefix TUV vs IOEUID CAB EXAMPLECAB',
    ]);
  });
});
