/**
 * Sandbox eHerkenning users: people acting for an organisation. `subject` is what a SUCCESS session can carry
 * (docs/providers.md#eherkenning-attributes), before Signicat filters it by `requestedAttributes`; `id` is Signicat's
 * subject id.
 * KvK numbers, branch numbers and pseudonyms are made up.
 */
export interface EherkenningPersona {
  id: string;
  label: string;
  description: string;
  /** How the session ends when this persona is picked (default SUCCESS). */
  status?: 'SUCCESS' | 'ERROR';
  subject: Record<string, string | boolean>;
}

export const EHERKENNING_PERSONAS: EherkenningPersona[] = [
  {
    id: 'eh-jansen-0001',
    label: 'P. Jansen — Autobedrijf Jansen B.V. (KvK 12345678)',
    description: 'Workshop employee, head office branch',
    subject: {
      id: 'eh-jansen-0001',
      idpId: 'E0DA125456E34014919EC26C5B1E6D9A8A5F7F2663A14C4D98BB6ADB3426FF01',
      firstName: 'Piet',
      lastName: 'Jansen',
      dateOfBirth: '1980-01-15',
      chamberOfCommerce: '12345678',
      eherkenningVestigingsNr: '000012345678',
      eherkenningPseudo: 'pseudo-jansen-12345678',
      organisationName: 'Autobedrijf Jansen B.V.',
      eherkenningRsin: '987654321',
    },
  },
  {
    id: 'eh-bakker-0002',
    label: 'S. Bakker — Bakker Truck Service (KvK 87654321)',
    description: 'Workshop employee, second branch',
    subject: {
      id: 'eh-bakker-0002',
      idpId: 'E0DA125456E34014919EC26C5B1E6D9A8A5F7F2663A14C4D98BB6ADB3426FF02',
      firstName: 'Sanne',
      lastName: 'Bakker',
      chamberOfCommerce: '87654321',
      eherkenningVestigingsNr: '000087654322',
      eherkenningPseudo: 'pseudo-bakker-87654321',
      organisationName: 'Bakker Truck Service',
    },
  },
  {
    id: 'eh-error-0003',
    label: 'Broker failure',
    description: 'eHerkenning fails at Signicat: the session ends with status ERROR',
    status: 'ERROR',
    subject: { id: 'eh-error-0003' },
  },
];
