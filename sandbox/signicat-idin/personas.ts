/**
 * Sandbox iDIN users. The claims follow Signicat's iDIN user-info (docs/providers.md#idin-scopes-and-claims); `claims`
 * is exactly what user-info
 * can return besides `sub` and `idp_issuer`, before filtering by the requested scopes. The BINs are made up
 * (iDIN BINs are opaque per service provider).
 */
export interface IdinPersona {
  /** Signicat's `sub` for this person. */
  id: string;
  label: string;
  description: string;
  /** The bank the person signs in with (what `acr_values=idin_idp:<BIC>` pre-selects). */
  bankBic: string;
  claims: Record<string, string | boolean>;
}

export const IDIN_PERSONAS: IdinPersona[] = [
  {
    id: 'idin-sub-vries-0001',
    label: 'V.J. de Vries — Sandbox Bank',
    description: "Adult with legal, preferred and partner names (Signicat's example)",
    bankBic: 'SNDBNL2A',
    claims: {
      idp_id: 'FANL01SNDB0000000000000000000000000000000000000000000000000000000001',
      name: 'VJ de Vries',
      family_name: 'de Vries',
      initials: 'VJ',
      idin_legal_last_name: 'Vries',
      idin_legal_last_name_prefix: 'de',
      idin_preferred_last_name: 'Vries-Jansen',
      idin_preferred_last_name_prefix: 'de',
      idin_partner_last_name: 'Jansen',
      idin_partner_last_name_prefix: 'de',
      birthdate: '19750725',
      eighteen_or_older: true,
      gender: '1',
    },
  },
  {
    id: 'idin-sub-bakker-0002',
    label: 'A.M. Bakker — Currence test bank',
    description: 'Adult with a legal last name only',
    bankBic: 'CURRNL2A',
    claims: {
      idp_id: 'FANL01CURR0000000000000000000000000000000000000000000000000000000002',
      name: 'AM Bakker',
      family_name: 'Bakker',
      initials: 'AM',
      idin_legal_last_name: 'Bakker',
      idin_preferred_last_name: 'Bakker',
      birthdate: '19880102',
      eighteen_or_older: true,
      gender: '2',
    },
  },
  {
    id: 'idin-sub-jong-0003',
    label: 'T. de Jong — Sandbox Bank (under 18)',
    description: 'A minor: eighteen_or_older is false',
    bankBic: 'SNDBNL2A',
    claims: {
      idp_id: 'FANL01SNDB0000000000000000000000000000000000000000000000000000000003',
      name: 'T de Jong',
      family_name: 'de Jong',
      initials: 'T',
      idin_legal_last_name: 'Jong',
      idin_legal_last_name_prefix: 'de',
      birthdate: '20100315',
      eighteen_or_older: false,
      gender: '9',
    },
  },
];
