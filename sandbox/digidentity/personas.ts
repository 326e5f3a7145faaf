/**
 * Sandbox people. The SERMI values come from Digidentity's published examples (docs/sermi.md#example-values); the
 * broken sets exercise the claim-set refusals. `claims` is exactly what user_info.json returns besides `sub`.
 */
export interface Persona {
  id: string;
  label: string;
  description: string;
  claims: Record<string, string>;
}

export const IOE_CLAIMS = {
  cabuid: 'EXA/NL/1234/1EXA2MP34LE5',
  iouid: 'EXAMPLEIO/WALDORPSTRAAT13FTHEHAGUE2521CA/NL123456789B01',
  ioeuid: 'NL/EXAMPLECAB/1234567890B',
};

export const PERSONAS: Persona[] = [
  {
    id: 'e2x0a6mp-37l0-42ps-94ef-u69755438d3o',
    label: 'IOE — Example IO employee',
    description: "Independent-operator employee (Digidentity's example IOE set)",
    claims: IOE_CLAIMS,
  },
  {
    id: 'p4x0a6mp-11l0-42ps-94ef-u69755438aaa',
    label: 'IOE — IO with a non-VAT regional id',
    description: 'IOUID ends in a regional id instead of a VAT number (pa_iouid)',
    claims: {
      cabuid: 'EXA/NL/1234/1EXA2MP34LE5',
      iouid: 'EXAMPLEIO/WALDORPSTRAAT13FTHEHAGUE2521CA/PA123BC456D78EF9',
      ioeuid: 'NL/EXAMPLECAB/5550001111B',
    },
  },
  {
    id: 'e6x3a4mp-49l2-66ps-94ef-u39455005d8o',
    label: 'RSSE — chain authorisation from the IOE',
    description: "Remote-service employee acting under an IOE chain authorisation (Digidentity's example RSSE set)",
    claims: {
      ...IOE_CLAIMS,
      rssuid: 'EXAMPLERSS/WALDORPSTRAAT13FTHEHAGUE2521CA/NL987654321B02',
      rsseuid: 'NL/EXAMPLECAB/9876543210D',
    },
  },
  {
    id: 'broken-partial-rsse-0001',
    label: 'Broken — partial RSSE set',
    description: 'rssuid without rsseuid: refused',
    claims: { ...IOE_CLAIMS, rssuid: 'EXAMPLERSS/WALDORPSTRAAT13FTHEHAGUE2521CA/NL987654321B02' },
  },
  {
    id: 'broken-rsse-only-0001',
    label: 'Broken — RSSE set without the IOE set',
    description: 'An RSSE login without chain authorisation: refused',
    claims: {
      rssuid: 'EXAMPLERSS/WALDORPSTRAAT13FTHEHAGUE2521CA/NL987654321B02',
      rsseuid: 'NL/EXAMPLECAB/9876543210D',
    },
  },
  {
    id: 'broken-missing-ioeuid-0001',
    label: 'Broken — no IOEUID',
    description: 'The base set without ioeuid: refused',
    claims: { cabuid: IOE_CLAIMS.cabuid, iouid: IOE_CLAIMS.iouid },
  },
  {
    id: 'broken-malformed-uid-0001',
    label: 'Broken — malformed IOEUID',
    description: 'An IOEUID with an empty segment: refused',
    claims: { ...IOE_CLAIMS, ioeuid: 'NL//1234567890B' },
  },
];
