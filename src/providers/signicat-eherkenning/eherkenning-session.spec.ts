import { describe, expect, it } from '@jest/globals';
import { readEherkenningSession } from './eherkenning-session.js';

const expected = { sessionId: 'session-0001', externalReference: 'transaction-0001' };
const success = {
  id: 'session-0001',
  externalReference: 'transaction-0001',
  status: 'SUCCESS',
  provider: 'eherkenning',
  subject: {
    id: 'X-FUmG7SkaAb8fA-7IU0ZrpTIJ37fnaV-c5SbXAoOqw=',
    chamberOfCommerce: '12345678',
    eherkenningVestigingsNr: '123400567890',
    eherkenningPseudo: 'pseudo-org-12345',
    organisationName: 'Example BV',
    firstName: 'Jane',
    dateOfBirth: '1980-01-15',
  },
};
const withSubject = (patch: Record<string, unknown>) => ({ ...success, subject: { ...success.subject, ...patch } });

describe('readEherkenningSession', () => {
  it('keeps the subject id and the allow-listed organisation attributes of a SUCCESS session (the Signicat example)', () => {
    expect(readEherkenningSession(success, expected)).toEqual({
      ok: true,
      identity: {
        subject: 'X-FUmG7SkaAb8fA-7IU0ZrpTIJ37fnaV-c5SbXAoOqw=',
        attributes: {
          chamberOfCommerce: '12345678',
          eherkenningVestigingsNr: '123400567890',
          eherkenningPseudo: 'pseudo-org-12345',
          organisationName: 'Example BV',
        },
      },
    });
  });

  it.each([
    ['ABORT', 'login_cancelled'],
    ['ABORTED', 'login_cancelled'],
    ['ERROR', 'provider_error'],
    ['EXPIRED', 'login_expired'],
    ['CREATED', 'authorization_response_invalid'],
    ['success', 'authorization_response_invalid'],
    [undefined, 'authorization_response_invalid'],
  ])('refuses status %s as %s', (status, code) => {
    expect(readEherkenningSession({ ...success, status }, expected)).toMatchObject({ ok: false, code });
  });

  it.each([
    ['another session', { ...success, id: 'session-0002' }, 'authorization_response_invalid'],
    ['another login', { ...success, externalReference: 'transaction-0002' }, 'authorization_response_invalid'],
    ['no reference', { ...success, externalReference: undefined }, 'authorization_response_invalid'],
    ['another identity provider', { ...success, provider: 'idin' }, 'userinfo_invalid'],
    ['no subject', { ...success, subject: undefined }, 'userinfo_invalid'],
    ['an empty subject id', withSubject({ id: ' ' }), 'userinfo_invalid'],
    ['a subject id with a control character', withSubject({ id: 'a\u0000b' }), 'userinfo_invalid'],
    ['a subject id with a lone surrogate', withSubject({ id: 'a\ud800b' }), 'userinfo_invalid'],
    ['no KvK number', withSubject({ chamberOfCommerce: undefined }), 'userinfo_invalid'],
    ['a 7-digit KvK number', withSubject({ chamberOfCommerce: '1234567' }), 'userinfo_invalid'],
    ['a KvK number as a number', withSubject({ chamberOfCommerce: 12345678 }), 'userinfo_invalid'],
    ['an 11-digit vestigingsnummer', withSubject({ eherkenningVestigingsNr: '12340056789' }), 'userinfo_invalid'],
    ['a vestigingsnummer with letters', withSubject({ eherkenningVestigingsNr: '1234005678AB' }), 'userinfo_invalid'],
    ['an organisation name that is not text', withSubject({ organisationName: ['x'] }), 'userinfo_invalid'],
  ])('refuses %s', (_case, session, code) => {
    expect(readEherkenningSession(session as Record<string, unknown>, expected)).toMatchObject({ ok: false, code });
  });

  it('accepts a login without branch number, pseudonym or organisation name', () => {
    const session = { ...success, subject: { id: 'subject-1', chamberOfCommerce: '87654321' } };
    expect(readEherkenningSession(session, expected)).toEqual({
      ok: true,
      identity: { subject: 'subject-1', attributes: { chamberOfCommerce: '87654321' } },
    });
  });
});
