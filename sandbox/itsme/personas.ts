/**
 * Sandbox itsme users. The claims follow itsme's ID token / user-info
 * (docs/providers.md#itsme-scopes-claims-and-authentication-levels); `claims` is everything the sandbox can release
 * besides `sub`, before filtering by scope. Birth date and national number are there on purpose: the backend must not
 * keep them. The national numbers are made up.
 */
export interface ItsmePersona {
  /** The persona's first itsme `sub`; a re-created itsme account gets a new one (see recreateAccount). */
  id: string;
  label: string;
  description: string;
  claims: Record<string, string | boolean>;
}

export const ITSME_PERSONAS: ItsmePersona[] = [
  {
    id: 'itsme-sub-peeters-0001',
    label: 'Jan Peeters — Belgian ID card',
    description: 'A Belgian workshop owner',
    claims: {
      name: 'Jan Peeters',
      given_name: 'Jan',
      family_name: 'Peeters',
      email: 'jan.peeters@garage-peeters.example',
      email_verified: true,
      birthdate: '1978-11-01',
      gender: 'male',
      locale: 'nl',
      phone_number: '+32 470 00 00 01',
      'http://itsme.services/v2/claim/BENationalNumber': '78110100123',
    },
  },
  {
    id: 'itsme-sub-dubois-0002',
    label: 'Marie Dubois — Belgian ID card',
    description: 'A mechanic at an independent workshop',
    claims: {
      name: 'Marie Dubois',
      given_name: 'Marie',
      family_name: 'Dubois',
      email: 'marie.dubois@atelier.example',
      email_verified: true,
      birthdate: '1990-04-12',
      gender: 'female',
      locale: 'fr',
      'http://itsme.services/v2/claim/BENationalNumber': '90041200246',
    },
  },
  {
    id: 'itsme-sub-jansen-0003',
    label: 'Els Jansen — Dutch passport (re-creates her account)',
    description: 'Use the sandbox home page to delete and re-create her itsme account: a new sub',
    claims: {
      name: 'Els Jansen',
      given_name: 'Els',
      family_name: 'Jansen',
      email: 'els.jansen@werkplaats.example',
      email_verified: false,
      birthdate: '1985-02-28',
      locale: 'nl',
    },
  },
];
