import { describe, expect, it } from '@jest/globals';
import {
  type AccessPolicy,
  decideSecurityAccess,
  type SermiSession,
  sermiLogIdentifiers,
  sermiSessionOf,
  VIN_PATTERN,
} from './access-rules.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const POLICY: AccessPolicy = { ioeMaxAgeSeconds: 1800, rsseMaxAgeSeconds: 900, chainVehicleBinding: 'first_vehicle' };
const IOE_CONTEXT = {
  method: 'web',
  provider: 'digidentity',
  sermi: {
    actorType: 'IOE',
    actor: {
      sub: 'e2x0a6mp',
      uid: 'NL/EXAMPLECAB/1234567890B',
      organisationUid: 'EXAMPLEIO/WALDORPSTRAAT13/NL123456789B01',
    },
    principal: { ioeuid: 'NL/EXAMPLECAB/1234567890B', iouid: 'EXAMPLEIO/WALDORPSTRAAT13/NL123456789B01' },
    cabuid: 'EXA/NL/1234/1EXA2MP34LE5',
  },
};
const RSSE_CONTEXT = {
  ...IOE_CONTEXT,
  sermi: {
    ...IOE_CONTEXT.sermi,
    actorType: 'RSSE',
    actor: { sub: 'rsse-sub', uid: 'NL/EXAMPLECAB/9876543210D', organisationUid: 'EXAMPLERSS/STREET/NL987654321B02' },
  },
};
const secondsAgo = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);
const session = (context: Record<string, unknown>, age: number, provider = 'digidentity') =>
  sermiSessionOf({ provider, authContext: context, authenticatedAt: secondsAgo(age) });

describe('sermiSessionOf', () => {
  it('reads the SERMI facts a Digidentity login stored', () => {
    expect(session(IOE_CONTEXT, 10)).toEqual({
      method: 'web',
      actorType: 'IOE',
      actor: IOE_CONTEXT.sermi.actor,
      principal: IOE_CONTEXT.sermi.principal,
      cabuid: IOE_CONTEXT.sermi.cabuid,
      authenticatedAt: secondsAgo(10),
      // A session from before the sign-in was kept: its authenticatedAt stands in.
      signIn: secondsAgo(10),
    });
  });

  it("reads the sign-in a session came from by the Trust Centre's auth_time as stamped, ahead of this clock or not", () => {
    const stamped = new Date(Date.now() + 8000);
    const context = { ...IOE_CONTEXT, sermi: { ...IOE_CONTEXT.sermi, signIn: stamped.toISOString() } };
    expect(session(context, 0)).toMatchObject({ authenticatedAt: secondsAgo(0), signIn: stamped });
    const garbled = { ...IOE_CONTEXT, sermi: { ...IOE_CONTEXT.sermi, signIn: 'not a time' } };
    expect(session(garbled, 10)?.signIn).toEqual(secondsAgo(10));
  });

  it.each([
    ['another provider', IOE_CONTEXT, 'itsme'],
    ['no SERMI facts (a test or non-SERMI login)', { method: 'web' }, 'digidentity'],
    ['an unknown login method', { ...IOE_CONTEXT, method: 'test' }, 'digidentity'],
    ['an unknown actor type', { ...IOE_CONTEXT, sermi: { ...IOE_CONTEXT.sermi, actorType: 'IO' } }, 'digidentity'],
    [
      'a principal without IOEUID',
      { ...IOE_CONTEXT, sermi: { ...IOE_CONTEXT.sermi, principal: { iouid: 'A/B/C' } } },
      'digidentity',
    ],
    ['an empty actor uid', { ...IOE_CONTEXT, sermi: { ...IOE_CONTEXT.sermi, actor: { sub: 'x' } } }, 'digidentity'],
  ])('is null for %s', (_, context, provider) => {
    expect(session(context, 10, provider)).toBeNull();
  });
});

describe('decideSecurityAccess', () => {
  it.each<[string, SermiSession | null, string, boolean]>([
    ['no SERMI session', null, 'sermi_login_required', false],
    ['a fresh IOE session', session(IOE_CONTEXT, 60), 'sermi_session_valid', false],
    ['an IOE session just under the maximum age', session(IOE_CONTEXT, 1799), 'sermi_session_valid', false],
    ['an IOE session at the maximum age', session(IOE_CONTEXT, 1800), 'reauthentication_required', false],
    ['a stale IOE session', session(IOE_CONTEXT, 7200), 'reauthentication_required', false],
    ['a fresh chain session (bound to the vehicle next)', session(RSSE_CONTEXT, 60), 'sermi_session_valid', true],
    ['a chain session older than the RSSE maximum age', session(RSSE_CONTEXT, 900), 'reauthentication_required', false],
  ])('%s → %s', (_, sermi, reason, bindVehicle) => {
    const access = decideSecurityAccess(sermi, NOW, POLICY);
    expect(access.reason).toBe(reason);
    expect(access.decision).toBe(reason === 'sermi_session_valid' ? 'granted' : 'denied');
    expect(access.bindVehicle === true).toBe(bindVehicle);
  });

  it('does not bind chain sessions to a vehicle when the binding is turned off', () => {
    expect(decideSecurityAccess(session(RSSE_CONTEXT, 60), NOW, { ...POLICY, chainVehicleBinding: 'none' })).toEqual({
      decision: 'granted',
      reason: 'sermi_session_valid',
    });
  });
});

describe('sermiLogIdentifiers', () => {
  it('logs an IOE as actor and principal, without chain identifiers', () => {
    expect(sermiLogIdentifiers(session(IOE_CONTEXT, 1)!)).toEqual({
      actorType: 'IOE',
      sub: 'e2x0a6mp',
      cabuid: 'EXA/NL/1234/1EXA2MP34LE5',
      iouid: IOE_CONTEXT.sermi.principal.iouid,
      ioeuid: IOE_CONTEXT.sermi.principal.ioeuid,
      rssuid: null,
      rsseuid: null,
    });
  });

  it('logs the RSSE as actor and the IOE of the chain authorisation as principal', () => {
    expect(sermiLogIdentifiers(session(RSSE_CONTEXT, 1)!)).toEqual({
      actorType: 'RSSE',
      sub: 'rsse-sub',
      cabuid: 'EXA/NL/1234/1EXA2MP34LE5',
      iouid: IOE_CONTEXT.sermi.principal.iouid,
      ioeuid: IOE_CONTEXT.sermi.principal.ioeuid,
      rssuid: 'EXAMPLERSS/STREET/NL987654321B02',
      rsseuid: 'NL/EXAMPLECAB/9876543210D',
    });
  });
});

describe('VIN_PATTERN', () => {
  it.each([
    ['WVWZZZ1JZXW000001', true],
    ['1HGCM82633A004352', true],
    ['WVWZZZ1JZXW00000', false],
    ['WVWZZZ1JZXW0000012', false],
    ['WVWZZZ1JZXI000001', false],
    ['WVWZZZ1JZXO000001', false],
    ['WVWZZZ1JZXQ000001', false],
    ['wvwzzz1jzxw000001', false],
    ['WVWZZZ1JZXW00000 ', false],
  ])('%s → %s', (vin, valid) => {
    expect(VIN_PATTERN.test(vin)).toBe(valid);
  });
});
